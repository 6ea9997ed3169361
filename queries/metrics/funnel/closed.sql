-- Deals closed in a period (win rate, deal size, cycle time) and pipeline velocity, per group,
-- for several periods in one pass, each with the overall numbers beside its groups.
--
-- grain: one row per period (period_id: its position in the period lists, from 1) per group:
--   the overall group (is_overall, group_key 'all'), always present, then with $by other
--   than 'all' the groups (not is_overall): the values of the $by dimension among closed and
--   open deals ('' when a deal has none).
-- params: one per period, in the same order: $period_starts, $period_ends (date[]): the
--   period; $as_of_dates (date[]): its states at the end of this day; $as_of (date): the day
--   the groups are taken at (the customer's tier for $by = tier);
--   $by: all | rep | team | channel | region | tier | pipeline;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (for tier);
--   $pipeline (varchar): only the deals of this pipeline ('' = without one), null = every deal;
--   $only_group (varchar): only this group of $by (no overall group, no other group), null = all.
-- definitions: closed = closed_at's date in the period (whatever created_at) and by the
--   as-of date, outcome won or lost; win_rate = won / (won + lost); avg_won_amount = mean
--   amount of the won; median_cycle_days = median of closed_at - created_at in calendar days
--   over the won; won_amount = total amount of the won (0 when none was won);
--   count_open_deals = deals created by the as-of date and open at it; open_amount = their
--   total amount (the open pipeline's value, 0 when none is open);
--   pipeline_velocity = open deals * win_rate * avg_won_amount / median_cycle_days (per day);
--   count_deals_without_created_at = the deals (of the pipeline) without created_at, on
--   every row.
-- invariant: count_closed_deals = count_won_deals + count_lost_deals
-- invariant: period_id between 1 and len($period_starts)
-- invariant: is_overall or $by <> 'all'
-- invariant: count(*) filter (where is_overall) over (partition by period_id) = 1 or $only_group is not null

with

deals as (select * from deals),

periods as (select * from period_list($period_starts, $period_ends, $as_of_dates)),

-- every deal (of the pipeline) in the overall group, and in its $by group beside it (only
-- the deals of $only_group in it, when given)
deal_keys as (
    select *
    from deal_groups_and_all($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months, $pipeline)
    where $only_group::varchar is null or (not is_overall and group_key = $only_group::varchar)
),

closed_in_period as (
    select
        periods.period_id,
        deal_keys.is_overall,
        deal_keys.group_key,
        deals.outcome,
        deals.amount,
        date_diff('day', deals.created_at::date, deals.closed_at::date) as cycle_days,
    from deals
    inner join periods
        on deals.closed_at::date between periods.period_start and periods.period_end
    inner join deal_keys on deals.deal_id = deal_keys.deal_id
    where deals.outcome in ('won', 'lost')
        and deals.closed_at < periods.cutoff_at
),

open_at_as_of as (
    select
        periods.period_id,
        deal_keys.is_overall,
        deal_keys.group_key,
        count(*) as count_open_deals,
        sum(deals.amount) as open_amount,
    from periods
    cross join lateral deals_as_of(periods.as_of_date) as deals
    inner join deal_keys on deals.deal_id = deal_keys.deal_id
    where deals.status_as_of = 'open'
    group by periods.period_id, deal_keys.is_overall, deal_keys.group_key
),

groups as (
    select period_id, is_overall, group_key from closed_in_period
    union
    select period_id, is_overall, group_key from open_at_as_of
    union
    select period_id, true as is_overall, 'all' as group_key from periods
    where $only_group::varchar is null
),

closed_summary as (
    select
        groups.period_id,
        groups.is_overall,
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
    left join closed_in_period
        on groups.period_id = closed_in_period.period_id
            and groups.is_overall = closed_in_period.is_overall
            and groups.group_key = closed_in_period.group_key
    group by groups.period_id, groups.is_overall, groups.group_key
),

final as (
    select
        closed_summary.*,
        coalesce(open_at_as_of.count_open_deals, 0) as count_open_deals,
        coalesce(open_at_as_of.open_amount, 0)::double as open_amount,
        (
            select count(*) from deals
            semi join deal_keys on deals.deal_id = deal_keys.deal_id and deal_keys.is_overall
            where deals.created_at is null
        ) as count_deals_without_created_at,
        case
            when closed_summary.median_cycle_days > 0
                then coalesce(open_at_as_of.count_open_deals, 0) * closed_summary.win_rate
                    * closed_summary.avg_won_amount / closed_summary.median_cycle_days
        end as pipeline_velocity,
    from closed_summary
    left join open_at_as_of
        on closed_summary.period_id = open_at_as_of.period_id
            and closed_summary.is_overall = open_at_as_of.is_overall
            and closed_summary.group_key = open_at_as_of.group_key
)

select * from final
order by period_id asc, is_overall desc, group_key asc
