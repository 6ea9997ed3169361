-- The target of a period, per group: every target whose range overlaps the period, counted
-- for the share of its days that fall in it (a quarter's target counts a third in a month).
--
-- grain: one row per group with an overlapping target (rep_id, the rep's team, or 'all');
--   no rows when no target overlaps the period.
-- params: $period_start, $period_end (date); $by: all | rep | team.
-- definitions: target_amount = sum of target_amount * overlap_days / range_days, where
--   overlap_days = days of the target's range inside the period and range_days = days of
--   its range (both ends included); a rep without a team is in team ''.
-- invariant: target_amount >= 0
-- invariant: count_targets > 0

with

targets as (select * from targets),

reps as (select * from reps),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $by::varchar as group_by,
),

overlapping as (
    select
        case params.group_by
            when 'all' then 'all'
            when 'rep' then targets.rep_id
            when 'team' then coalesce(reps.team, '')
        end as group_key,
        targets.target_amount::double
        * (date_diff(
            'day', greatest(targets.period_start, params.period_start),
            least(targets.period_end, params.period_end)
        ) + 1)
        / (date_diff('day', targets.period_start, targets.period_end) + 1) as counted_amount,
    from targets
    cross join params
    left join reps on targets.rep_id = reps.rep_id
    where targets.period_start <= params.period_end and targets.period_end >= params.period_start
),

final as (
    select group_key, sum(counted_amount) as target_amount, count(*) as count_targets,
    from overlapping
    group by group_key
)

select * from final
order by group_key
