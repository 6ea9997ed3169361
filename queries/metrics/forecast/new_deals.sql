-- What deals not yet created at the as-of date should still win within the period, per group:
-- the deals won in the history window, each counted once for every day it could have been
-- created after the as-of date and still have been won within the period.
--
-- grain: one row per group (values of $by among those won deals, '' when a deal has none);
--   with $by = 'all' exactly one row, 'all'.
-- params: $as_of, $period_start, $period_end (date); $history_start, $history_end (date);
--   $by: all | rep | team.
-- definitions: days_left = $period_end - $as_of, gap_days = days from $as_of to the day
--   before $period_start (0 once it started). A deal created t days after the as-of date
--   (t = 1, 2, ...) and won cycle_days after its creation counts when t + cycle_days lies in
--   (gap_days, days_left]: for count_days = days_left - cycle_days - greatest(1, gap_days +
--   1 - cycle_days) + 1 values of t (0 when negative). Model deals: won, created in the
--   window's first days_in_window = history days - days_left days (so that a deal taking up
--   to days_left days was seen closing), with cycle_days <= days_left.
--   expected_amount = sum of amount * count_days / days_in_window (null without such days).
-- invariant: expected_amount is null or expected_amount >= 0
-- invariant: count_model_deals >= 0

with

deals as (select * from deals),

reps as (select * from reps),

params as (
    select
        $history_start::date as history_start,
        $by::varchar as group_by,
        greatest(date_diff('day', $as_of::date, $period_end::date), 0) as days_left,
        greatest(date_diff('day', $as_of::date, $period_start::date) - 1, 0) as gap_days,
        date_diff('day', $history_start::date, $history_end::date) + 1
        - greatest(date_diff('day', $as_of::date, $period_end::date), 0) as days_in_window,
),

model_deals as (
    select
        coalesce(
            case params.group_by
                when 'all' then 'all'
                when 'rep' then deals.owner_rep_id
                when 'team' then reps.team
            end,
            ''
        ) as group_key,
        deals.amount::double as amount,
        date_diff('day', deals.created_at::date, deals.closed_at::date) as cycle_days,
    from deals
    cross join params
    left join reps on deals.owner_rep_id = reps.rep_id
    where deals.outcome = 'won'
        and deals.created_at::date >= params.history_start
        and deals.created_at::date < params.history_start + to_days(params.days_in_window)
        and date_diff('day', deals.created_at::date, deals.closed_at::date) <= params.days_left
),

counted as (
    select
        model_deals.group_key,
        model_deals.amount,
        greatest(
            params.days_left - model_deals.cycle_days
            - greatest(1, params.gap_days + 1 - model_deals.cycle_days) + 1,
            0
        ) as count_days,
    from model_deals
    cross join params
),

groups as (
    select group_key from counted
    union
    select 'all' from params where group_by = 'all'
),

final as (
    select
        groups.group_key,
        count(counted.amount) as count_model_deals,
        case
            when any_value(params.days_in_window) > 0
                then coalesce(sum(counted.amount * counted.count_days), 0) / any_value(params.days_in_window)
        end as expected_amount,
    from groups
    cross join params
    left join counted on groups.group_key = counted.group_key
    group by groups.group_key
)

select * from final
order by group_key
