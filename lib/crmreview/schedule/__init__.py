"""Reports on a schedule: cron jobs, an archive with an index, e-mail and follow-up reminders.

A schedule file (:mod:`~crmreview.schedule.spec`) lists jobs: a report template or the
follow-up ``digest``, a period rule, a cron expression in a time zone
(:mod:`~crmreview.schedule.timing`), recipients, and a folder of exports to import first.
:mod:`~crmreview.schedule.runner` runs what is due, each job under a lock, into the archive
(:mod:`~crmreview.schedule.archive`: files by job and period, ``index.html``, ``run.log``);
:mod:`~crmreview.schedule.reports` is the one adapter to the report renderer,
:mod:`~crmreview.schedule.digest` the per-rep reminders, :mod:`~crmreview.schedule.mail`
the SMTP sending, :mod:`~crmreview.schedule.cli` the ``crm-review schedule`` command.
"""

__all__ = ["DEFAULT_SCHEDULE"]

#: the schedule file the commands read without ``--schedule``
DEFAULT_SCHEDULE = "crm-review-schedule.yml"
