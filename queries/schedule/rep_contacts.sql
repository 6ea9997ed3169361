-- Who receives follow-up reminders: every rep with name, team and e-mail address.
-- grain: one row per rep, by team then rep_id; email is null when the reps export has none.

with

reps as (select * from reps),

final as (
    select
        rep_id,
        name,
        team,
        nullif(trim(email), '') as email,
    from reps
)

select * from final
order by team asc nulls last, rep_id asc
