-- Won so far in a period, per group: the deals won from the period's start to the as-of date.
--
-- grain: one row per group with a won deal in the window (values of $by, '' when a deal has
--   none); with $by = 'all' exactly one row, 'all'.
-- params: $period_start, $period_end, $as_of (date); $by: all | rep | team (the deal's
--   owner rep, that rep's team).
-- definitions: won deals with closed_at's date between $period_start and the earlier of
--   $period_end and $as_of (a deal closed after the as-of date is open as of it), whatever
--   their created_at.
-- invariant: count_won_deals >= 0
-- invariant: group_key <> 'all' or count_won_deals > 0 or won_amount = 0


with

params as (
    select
        $period_start::date as period_start,
        least($period_end::date, $as_of::date) as window_end,
        $by::varchar as group_by,
),

won as (
    select won_deals.group_key, won_deals.amount,
    from forecast_won_deals($by) as won_deals
    cross join params
    where won_deals.closed_date between params.period_start and params.window_end
),

groups as (
    select group_key from won
    union
    select 'all' from params where group_by = 'all'
),

final as (
    select
        groups.group_key,
        count(won.group_key) as count_won_deals,
        coalesce(sum(won.amount), 0)::double as won_amount,
    from groups
    left join won on groups.group_key = won.group_key
    group by groups.group_key
)

select * from final
order by group_key
