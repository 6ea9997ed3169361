-- The team of one rep, for the rep scorecard's comparison with the team.
--
-- grain: at most one row (none when the rep is unknown): team, null when the rep has none.
-- params: $rep_id.

with

params as (
    select $rep_id::varchar as rep_id,
),

reps as (select * from reps),

final as (
    select reps.team,
    from reps
    inner join params on reps.rep_id = params.rep_id
)

select * from final
