-- Deals closed in a period (win rate, deal size, cycle time) and pipeline velocity.
--
-- grain: one row.
-- params: $period_start, $period_end (date): the period; $as_of (date): states at the end
--   of this day.
-- definitions: closed = closed_at's date in the period (whatever created_at) and by the
--   as-of date, outcome won or lost; win_rate = won / (won + lost); avg_won_amount = mean
--   amount of the won; median_cycle_days = median of closed_at - created_at in calendar days
--   over the won; count_open_deals = deals created by the as-of date and not closed by it;
--   pipeline_velocity = open deals * win_rate * avg_won_amount / median_cycle_days (per day).
-- invariants: count_closed_deals = count_won_deals + count_lost_deals.

with

deals as (select * from deals),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date + interval 1 day as cutoff_at,
),

closed_in_period as (
    select
        deals.outcome,
        deals.amount,
        date_diff('day', deals.created_at::date, deals.closed_at::date) as cycle_days,
    from deals
    cross join params
    where deals.outcome in ('won', 'lost')
        and deals.closed_at::date between params.period_start and params.period_end
        and deals.closed_at < params.cutoff_at
),

open_at_as_of as (
    select count(*) as count_open_deals,
    from deals
    cross join params
    where deals.created_at < params.cutoff_at
        and (
            deals.outcome = 'open'
            or (deals.closed_at is not null and deals.closed_at >= params.cutoff_at)
        )
),

closed_summary as (
    select
        count(*) as count_closed_deals,
        count(*) filter (where outcome = 'won') as count_won_deals,
        count(*) filter (where outcome = 'lost') as count_lost_deals,
        count(*) filter (where outcome = 'won') / nullif(count(*), 0) as win_rate,
        avg(amount) filter (where outcome = 'won')::double as avg_won_amount,
        quantile_cont(cycle_days, 0.5) filter (where outcome = 'won') as median_cycle_days,
    from closed_in_period
),

final as (
    select
        closed_summary.*,
        open_at_as_of.count_open_deals,
        (select count(*) from deals where created_at is null) as count_deals_without_created_at,
        case when closed_summary.median_cycle_days > 0 then
            open_at_as_of.count_open_deals * closed_summary.win_rate
            * closed_summary.avg_won_amount / closed_summary.median_cycle_days
        end as pipeline_velocity,
    from closed_summary
    cross join open_at_as_of
)

select * from final
