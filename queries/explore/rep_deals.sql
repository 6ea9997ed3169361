-- One rep's deals in a period, stale and lost first: the drill-down from a rep.
--
-- grain: one row per deal of $rep_id that was created in the period, closed in it, or is
--   open at the as-of date; at most $row_limit rows: stale deals first (longest without a
--   stage change first), then lost, then open, then won, larger amounts first, then deal_id.
-- params: $rep_id (varchar); $period_start, $period_end, $as_of (date); $stale_days (integer);
--   $pipeline (varchar): only this pipeline ('' = deals without one), null = every deal;
--   $row_limit (integer).
-- definitions: status_as_of and the last change as in deals_as_of (queries/macros/deals.sql)
--   and queries/metrics/funnel/stale_deals.sql: the latest history row up to the as-of date,
--   else created_at; stale = open at the as-of date with as-of - last change >= $stale_days.
-- columns: deal_id, customer_id, customer_name, stage, status_as_of, amount, created_date,
--   closed_date, lost_reason, last_change_date, days_since_change, is_stale, count_deals
--   (all the rep's deals in scope, of which these rows are the first).
-- invariant: not is_stale or status_as_of = 'open'

with

history as (select * from deal_stage_history),

customers as (select * from customers),

params as (
    select
        $rep_id::varchar as rep_id,
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date as as_of_date,
        $as_of::date + interval 1 day as cutoff_at,
        $stale_days::integer as stale_days,
        $pipeline::varchar as pipeline_name,
),

rep_deals as (
    select deals.*
    from deals_as_of($as_of) as deals
    cross join params
    where deals.owner_rep_id = params.rep_id
        and (params.pipeline_name is null or coalesce(deals.pipeline, '') = params.pipeline_name)
        and (
            deals.created_at::date between params.period_start and params.period_end
            or deals.status_as_of = 'open'
            or deals.closed_at::date between params.period_start and params.period_end
        )
),

last_changes as (
    select
        history.deal_id,
        max(history.entered_at) as last_entered_at,
    from history
    inner join rep_deals on history.deal_id = rep_deals.deal_id
    cross join params
    where history.entered_at < params.cutoff_at
    group by history.deal_id
),

dated as (
    select
        rep_deals.deal_id,
        rep_deals.customer_id,
        customers.name as customer_name,
        rep_deals.stage,
        rep_deals.status_as_of,
        rep_deals.amount,
        rep_deals.created_at::date as created_date,
        case when rep_deals.status_as_of = 'open' then null else rep_deals.closed_at::date end as closed_date,
        rep_deals.lost_reason,
        coalesce(last_changes.last_entered_at, rep_deals.created_at)::date as last_change_date,
        date_diff(
            'day', coalesce(last_changes.last_entered_at, rep_deals.created_at)::date, params.as_of_date
        ) as days_since_change,
        params.stale_days,
    from rep_deals
    cross join params
    left join last_changes on rep_deals.deal_id = last_changes.deal_id
    left join customers on rep_deals.customer_id = customers.customer_id
),

final as (
    select
        deal_id,
        customer_id,
        customer_name,
        stage,
        status_as_of,
        amount,
        created_date,
        closed_date,
        lost_reason,
        last_change_date,
        days_since_change,
        status_as_of = 'open' and days_since_change >= stale_days as is_stale,
        count(*) over () as count_deals,
    from dated
)

select * from final
order by
    case when is_stale then 0 when status_as_of = 'lost' then 1 when status_as_of = 'open' then 2 else 3 end asc,
    case when is_stale then days_since_change end desc,
    amount desc nulls last,
    deal_id asc
limit $row_limit
