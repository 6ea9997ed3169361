-- Deals closed in a period (win rate, deal size, cycle time) and pipeline velocity, per group.
--
-- grain: one row per group (values of the $by dimension among closed and open deals, ''
--   when a deal has none); with $by = 'all' exactly one row, 'all'.
-- params: $period_start, $period_end (date): the period; $as_of (date): states at the end
--   of this day; $by: all | rep | team | channel | region | tier | pipeline;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (for tier);
--   $pipeline (varchar): only the deals of this pipeline ('' = without one), null = every deal.
-- definitions: closed = closed_at's date in the period (whatever created_at) and by the
--   as-of date, outcome won or lost; win_rate = won / (won + lost); avg_won_amount = mean
--   amount of the won; median_cycle_days = median of closed_at - created_at in calendar days
--   over the won; won_amount = total amount of the won (0 when none was won);
--   count_open_deals = deals created by the as-of date and open at it; open_amount = their
--   total amount (the open pipeline's value, 0 when none is open);
--   pipeline_velocity = open deals * win_rate * avg_won_amount / median_cycle_days (per day).
-- invariant: count_closed_deals = count_won_deals + count_lost_deals

with

deals as (select * from deals),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date + interval 1 day as cutoff_at,
        $by::varchar as group_by,
),

deal_groups as (
    select * from deal_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months, $pipeline)
),

closed_in_period as (
    select
        deal_groups.group_key,
        deals.outcome,
        deals.amount,
        date_diff('day', deals.created_at::date, deals.closed_at::date) as cycle_days,
    from deals
    cross join params
    inner join deal_groups on deals.deal_id = deal_groups.deal_id
    where deals.outcome in ('won', 'lost')
        and deals.closed_at::date between params.period_start and params.period_end
        and deals.closed_at < params.cutoff_at
),

open_at_as_of as (
    select
        deal_groups.group_key,
        count(*) as count_open_deals,
        sum(deals.amount) as open_amount,
    from deals_as_of($as_of) as deals
    inner join deal_groups on deals.deal_id = deal_groups.deal_id
    where deals.status_as_of = 'open'
    group by deal_groups.group_key
),

groups as (
    select group_key from closed_in_period
    union
    select group_key from open_at_as_of
    union
    select 'all' from params where group_by = 'all'
),

closed_summary as (
    select
        groups.group_key,
        count(closed_in_period.outcome) as count_closed_deals,
        count(*) filter (where closed_in_period.outcome = 'won') as count_won_deals,
        count(*) filter (where closed_in_period.outcome = 'lost') as count_lost_deals,
        (
            count(*) filter (where closed_in_period.outcome = 'won')
            / nullif(count(closed_in_period.outcome), 0)
        ) as win_rate,
        avg(closed_in_period.amount) filter (where closed_in_period.outcome = 'won')::double
            as avg_won_amount,
        coalesce(sum(closed_in_period.amount) filter (where closed_in_period.outcome = 'won'), 0)::double
            as won_amount,
        quantile_cont(closed_in_period.cycle_days, 0.5) filter (where closed_in_period.outcome = 'won')
            as median_cycle_days,
    from groups
    left join closed_in_period on groups.group_key = closed_in_period.group_key
    group by groups.group_key
),

final as (
    select
        closed_summary.*,
        coalesce(open_at_as_of.count_open_deals, 0) as count_open_deals,
        coalesce(open_at_as_of.open_amount, 0)::double as open_amount,
        (
            select count(*) from deals
            inner join deal_groups on deals.deal_id = deal_groups.deal_id
            where deals.created_at is null
        ) as count_deals_without_created_at,
        case
            when closed_summary.median_cycle_days > 0
                then coalesce(open_at_as_of.count_open_deals, 0) * closed_summary.win_rate
                    * closed_summary.avg_won_amount / closed_summary.median_cycle_days
        end as pipeline_velocity,
    from closed_summary
    left join open_at_as_of on closed_summary.group_key = open_at_as_of.group_key
)

select * from final
order by group_key
