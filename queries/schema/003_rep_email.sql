-- Version 3: where a rep's follow-up reminders go (crm-review schedule, digest jobs).
-- Optional: a rep without an address is listed in the schedule's run log, never skipped silently.
alter table reps add column email varchar;
