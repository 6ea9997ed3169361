"""The schedule file (``crm-review-schedule.yml``), declared key by key, and its loading.

:class:`ScheduleFile` declares what a file may hold (checked by :mod:`crmreview.yamlcheck`,
so every problem is one line naming the file, the key, its line and what was expected);
:func:`load_schedule` checks it and resolves what depends on where the file lies: paths are
relative to the schedule file's folder, time zones become ``ZoneInfo`` objects.

Public names: ``ScheduleError``, ``ScheduleFile``, ``JobSpec``, ``SmtpSpec``, ``EmailSpec``,
``ImportSpec``, ``ScopeSpec``, ``Schedule``, ``Job``, ``load_schedule``, ``DEFAULT_SCHEDULE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from croniter import croniter
from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, model_validator

from ..periods import RELATIVE_PERIODS
from ..scope import Scope
from ..yamlcheck import SchemaError, StrictModel, check, did_you_mean, read_yaml
from . import DEFAULT_SCHEDULE

__all__ = [
    "DEFAULT_SCHEDULE",
    "ScheduleError",
    "ScheduleFile",
    "JobSpec",
    "SmtpSpec",
    "EmailSpec",
    "ImportSpec",
    "ScopeSpec",
    "Schedule",
    "Job",
    "load_schedule",
]

_JOB_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


class ScheduleError(ValueError):
    """A schedule file that cannot be read or used; the message names the file and the key."""


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = did_you_mean(name, _zones())
        hint = f"; did you mean {close}?" if close else ""
        raise ValueError(f"{name!r} is not a time zone (expected an IANA name such as Asia/Shanghai){hint}") from None
    return name


def _cron(expression: str) -> str:
    if not croniter.is_valid(expression) or len(expression.split()) != 5:
        raise ValueError(
            f"{expression!r} is not a cron expression (expected five fields: minute hour day-of-month "
            "month day-of-week, e.g. '0 7 * * MON' for Mondays at 07:00)"
        )
    return expression


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address (expected name@example.com)")
    return value


TimeZoneName = Annotated[StrictStr, AfterValidator(_time_zone)]
CronText = Annotated[StrictStr, AfterValidator(_cron)]
Address = Annotated[StrictStr, AfterValidator(_address)]


class SmtpSpec(StrictModel):
    """The mail server the jobs send through; the password is read from an environment variable."""

    host: StrictStr = Field(description="the SMTP server's host name, e.g. smtp.example.com")
    port: StrictInt = Field(None, gt=0, lt=65536, description="a port number, e.g. 587 (starttls) or 465 (ssl)")
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description="starttls, ssl or none")
    username: StrictStr = Field(None, description="the login, e.g. reports@example.com")
    password_env: StrictStr = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the name of the environment variable holding the password, e.g. CRM_REVIEW_SMTP_PASSWORD",
    )
    sender: Address = Field(description="the From address, e.g. reports@example.com")

    @model_validator(mode="after")
    def _login_has_a_password(self) -> SmtpSpec:
        if self.username and not self.password_env:
            raise ValueError("a username needs password_env (the environment variable holding the password)")
        return self


class EmailSpec(StrictModel):
    """Who receives a job's output by e-mail."""

    to: list[Address] = Field(
        default_factory=list,
        description="addresses, e.g. [sales-leads@example.com]; digests: who gets every team summary",
    )
    subject: StrictStr = Field(None, description="a subject line; default: the job's title and period")


class ImportSpec(StrictModel):
    """A folder of exports imported before the job runs (files already imported are skipped)."""

    folder: StrictStr = Field(description="a folder of exports, relative to the schedule file")
    pattern: StrictStr | list[StrictStr] = Field(
        "*.csv", description="a file name pattern or a list of them, e.g. '*.csv' or [deals.csv, accounts.csv]"
    )

    @property
    def patterns(self) -> tuple[str, ...]:
        return (self.pattern,) if isinstance(self.pattern, str) else tuple(self.pattern)

    source: StrictStr = Field(
        None, description="a built-in adapter: salesforce, hubspot, zoho, jiandaoyun, neocrm, fxiaoke or yonyou"
    )
    mapping: StrictStr = Field(None, description="a mapping file, relative to the schedule file")

    @model_validator(mode="after")
    def _one_reader(self) -> ImportSpec:
        if self.source and self.mapping:
            raise ValueError("give source or mapping, not both")
        return self


class ScopeSpec(StrictModel):
    """What a report covers: one of team, region and rep, and optionally one pipeline."""

    team: StrictStr = Field(None, description="a team name")
    region: StrictStr = Field(None, description="a region name")
    rep: StrictStr = Field(None, description="a rep id")
    pipeline: StrictStr = Field(None, description="a pipeline name ('' = deals without one)")

    @model_validator(mode="after")
    def _one_of_team_region_rep(self) -> ScopeSpec:
        chosen = [name for name in ("team", "region", "rep") if getattr(self, name) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one of team, region and rep, not {' and '.join(chosen)}")
        return self


class JobSpec(StrictModel):
    """One job: what it renders, for which period, when, and where it goes."""

    key_noun = "job key"

    name: StrictStr = Field(
        pattern=f"^{_JOB_NAME.pattern}$", description="a name of lowercase letters, digits, - and _, e.g. weekly-funnel"
    )
    kind: Literal["report", "digest"] = Field("report", description="report or digest")
    template: StrictStr = Field(None, description="a report notebook of notebooks/, e.g. quarterly_review")
    period: Literal[RELATIVE_PERIODS] = Field(  # type: ignore[valid-type]
        description="the period rule: " + ", ".join(RELATIVE_PERIODS)
    )
    cron: CronText = Field(description="when the job runs, e.g. '0 7 * * MON'")
    timezone: TimeZoneName = Field(None, description="an IANA time zone, e.g. Asia/Shanghai")
    lang: Literal["en", "zh", "both"] = Field(
        None, description="en or zh (digests also both); default en, digests both"
    )
    compare: Literal["prev", "yoy"] = Field("prev", description="prev or yoy")
    scope: ScopeSpec = Field(None, description="team, region or rep, and pipeline")
    mask_pii: StrictBool = Field(False, description="true to replace customer and rep names by pseudonyms")
    pdf: StrictBool = Field(False, description="true to print the report to PDF too")
    folder: StrictStr = Field(None, description="the job's folder in the archive; default its name")
    email: EmailSpec = Field(None, description="recipients: to (a list of addresses), subject")
    leads: dict[StrictStr, Address] = Field(
        None, description="digests: each team's lead, who gets the team's summary, e.g. {East: lead@example.com}"
    )
    import_first: ImportSpec = Field(None, description="folder, pattern, and source or mapping")

    @model_validator(mode="after")
    def _kind_keys(self) -> JobSpec:
        if self.kind == "digest":
            given = [key for key in ("template", "pdf", "scope", "mask_pii") if key in self.model_fields_set]
            if given:
                raise ValueError(f"a digest job takes no {', '.join(given)} (those are report keys)")
        else:
            if self.leads is not None:
                raise ValueError("leads belong to digest jobs (kind: digest)")
            if self.lang == "both":
                raise ValueError("a report job renders in one language: en or zh (make a second job for the other)")
        return self


class ScheduleFile(StrictModel):
    """The keys of a schedule file."""

    file_expected = "a mapping with jobs: [...], e.g. the file crm-review schedule init writes"

    timezone: TimeZoneName = Field("UTC", description="an IANA time zone for the jobs' cron times, e.g. Asia/Shanghai")
    db: StrictStr = Field(None, description="the warehouse file, relative to the schedule file")
    config: StrictStr = Field(None, description="a settings file, relative to the schedule file")
    archive: StrictStr = Field("archive", description="the archive folder, relative to the schedule file")
    smtp: SmtpSpec = Field(None, description="host, port, security, username, password_env, sender")
    jobs: list[JobSpec] = Field(min_length=1, description="a list of jobs")


@dataclass(frozen=True)
class Job:
    """A job of a loaded schedule: its declaration with time zone, folder and scope resolved."""

    spec: JobSpec
    zone: ZoneInfo
    folder: Path  # in the archive
    import_folder: Path | None
    mapping: Path | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def langs(self) -> tuple[str, ...]:
        lang = self.spec.lang or ("both" if self.kind == "digest" else "en")
        return ("zh", "en") if lang == "both" else (lang,)

    @property
    def scope(self) -> Scope | None:
        if self.spec.scope is None:
            return None
        return Scope(**self.spec.scope.model_dump())


@dataclass(frozen=True)
class Schedule:
    """A checked schedule file with its paths resolved."""

    path: Path
    spec: ScheduleFile
    zone: ZoneInfo
    db: Path | None
    config: Path | None
    archive: Path
    jobs: tuple[Job, ...]

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs)
        raise ScheduleError(f"{self.path}: no job {name!r}; its jobs: {known}")


def _relative(base: Path, text: str | None) -> Path | None:
    return None if text is None else (base / Path(text).expanduser()).resolve()


def load_schedule(path: str | Path) -> Schedule:
    """The schedule file at ``path``, checked; raises :class:`ScheduleError` with one line per problem."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScheduleError(
            f"no schedule file {path}; write an example with crm-review schedule init --out {path}"
        ) from None
    except OSError as exc:
        raise ScheduleError(f"cannot read schedule file {path}: {exc.strerror}") from None
    try:
        data, lines = read_yaml(text)
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{path}: not valid YAML: {exc}") from None
    try:
        spec = check(ScheduleFile, data, where=str(path), lines=lines)
    except SchemaError as exc:
        raise ScheduleError(str(exc)) from None
    problems = []
    seen: dict[str, int] = {}
    for i, job in enumerate(spec.jobs):
        line = lines.get(("jobs", i, "name"), 0)
        if job.name in seen:
            problems.append(
                f"{path}: jobs[{i}].name (line {line}): {job.name!r} is the name of jobs[{seen[job.name]}] too; each job has its own name"
            )
        seen.setdefault(job.name, i)
        if job.email is not None and spec.smtp is None:
            problems.append(
                f"{path}: jobs[{i}].email (line {lines.get(('jobs', i, 'email'), 0)}): e-mail needs an smtp block (host, sender, …)"
            )
    if problems:
        raise ScheduleError("\n".join(problems))
    base = path.resolve().parent
    archive = _relative(base, spec.archive)
    assert archive is not None
    zone = ZoneInfo(spec.timezone)
    jobs = tuple(
        Job(
            spec=job,
            zone=ZoneInfo(job.timezone) if job.timezone else zone,
            folder=archive / (job.folder or job.name),
            import_folder=_relative(base, job.import_first.folder) if job.import_first else None,
            mapping=_relative(base, job.import_first.mapping) if job.import_first else None,
        )
        for job in spec.jobs
    )
    return Schedule(
        path=path.resolve(),
        spec=spec,
        zone=zone,
        db=_relative(base, spec.db),
        config=_relative(base, spec.config),
        archive=archive,
        jobs=jobs,
    )
