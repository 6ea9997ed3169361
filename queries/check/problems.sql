-- What is wrong in a warehouse: `crm-review check`.
-- grain: one row per (check, table, problem) that holds for at least one row:
--   check_name, table_name, problem, count_rows, example (the first offending key or line).
-- params: $stages (the configured funnel stages plus lost), $won_stage.
-- invariant: an empty result means every check passed.
-- A reference is checked only when the table it points into holds rows (a partial warehouse,
-- deals without a customers export, is no error).
-- Each check is one branch of a union: later branches take the first branch's column names,
-- and the membership tests name one table each.
-- noqa: disable=AL03,RF02,ST05

with

customers as (select * from customers),

reps as (select * from reps),

targets as (select * from targets),

deals as (select * from deals),

deal_stage_history as (select * from deal_stage_history),

orders as (select * from orders),

activities as (select * from activities),

imports as (select * from imports),

rejects as (select * from rejects),

params as (select $stages::varchar [] as stages, $won_stage::varchar as won_stage),

duplicate_keys as (
    select
        'keys' as check_name, 'customers' as table_name, 'customer_id occurs more than once' as problem,
        count(*) as count_rows, min(customer_id) as example,
    from (select customer_id from customers group by customer_id having count(*) > 1)
    union all
    select 'keys', 'reps', 'rep_id occurs more than once', count(*), min(rep_id)
    from (select rep_id from reps group by rep_id having count(*) > 1)
    union all
    select 'keys', 'targets', 'rep_id + period_start occurs more than once', count(*), min(rep_id)
    from (select rep_id from targets group by rep_id, period_start having count(*) > 1)
    union all
    select 'keys', 'deals', 'deal_id occurs more than once', count(*), min(deal_id)
    from (select deal_id from deals group by deal_id having count(*) > 1)
    union all
    select 'keys', 'deal_stage_history', 'deal_id + stage + entered_at occurs more than once', count(*), min(deal_id)
    from (select deal_id from deal_stage_history group by deal_id, stage, entered_at having count(*) > 1)
    union all
    select 'keys', 'orders', 'order_id occurs more than once', count(*), min(order_id)
    from (select order_id from orders group by order_id having count(*) > 1)
    union all
    select 'keys', 'activities', 'activity_id occurs more than once', count(*), min(activity_id)
    from (select activity_id from activities group by activity_id having count(*) > 1)
    union all
    select 'keys', 'imports', 'import_id occurs more than once', count(*), min(import_id)::varchar
    from (select import_id from imports group by import_id having count(*) > 1)
),

dangling as (
    select
        'references' as check_name, 'deals' as table_name,
        'customer_id not in customers' as problem, count(*) as count_rows, min(customer_id) as example,
    from deals
    where customer_id is not null and exists (select 1 from customers)
        and customer_id not in (select customer_id from customers)
    union all
    select 'references', 'deals', 'owner_rep_id not in reps', count(*), min(owner_rep_id)
    from deals
    where owner_rep_id is not null and exists (select 1 from reps)
        and owner_rep_id not in (select rep_id from reps)
    union all
    select 'references', 'deal_stage_history', 'deal_id not in deals', count(*), min(deal_id)
    from deal_stage_history
    where exists (select 1 from deals) and deal_id not in (select deal_id from deals)
    union all
    select 'references', 'orders', 'customer_id not in customers', count(*), min(customer_id)
    from orders
    where exists (select 1 from customers) and customer_id not in (select customer_id from customers)
    union all
    select 'references', 'activities', 'customer_id not in customers', count(*), min(customer_id)
    from activities
    where customer_id is not null and exists (select 1 from customers)
        and customer_id not in (select customer_id from customers)
    union all
    select 'references', 'activities', 'deal_id not in deals', count(*), min(deal_id)
    from activities
    where deal_id is not null and exists (select 1 from deals) and deal_id not in (select deal_id from deals)
    union all
    select 'references', 'targets', 'rep_id not in reps', count(*), min(rep_id)
    from targets
    where exists (select 1 from reps) and rep_id not in (select rep_id from reps)
    union all
    select 'references', 'rejects', 'import_id not in imports', count(*), min(import_id)::varchar
    from rejects
    where import_id not in (select import_id from imports)
),

stage_order as (
    select
        'stages' as check_name, 'deals' as table_name,
        'stage not in the configured funnel' as problem, count(*) as count_rows, min(deal_id) as example,
    from deals, params
    where not list_contains(params.stages, deals.stage)
    union all
    select 'stages', 'deal_stage_history', 'stage not in the configured funnel', count(*), min(deal_id)
    from deal_stage_history, params
    where not list_contains(params.stages, deal_stage_history.stage)
    union all
    select
        'stages',
        'deals',
        'outcome does not match the stage (won is stage ' || any_value(won_stage) || ', lost is lost)',
        count(*), min(deal_id)
    from deals, params
    where (outcome = 'won') != (stage = won_stage) or (outcome = 'lost') != (stage = 'lost')
),

durations as (
    select
        'durations' as check_name, 'deals' as table_name,
        'closed_at is before created_at' as problem, count(*) as count_rows, min(deal_id) as example,
    from deals
    where closed_at < created_at
    union all
    select 'durations', 'targets', 'period_end is before period_start', count(*), min(rep_id)
    from targets
    where period_end < period_start
    union all
    select 'durations', 'deal_stage_history', 'a stage entered before its deal was created', count(*), min(h.deal_id)
    from deal_stage_history as h
    inner join deals as d on h.deal_id = d.deal_id
    where h.entered_at < d.created_at::date
),

accounting as (
    select
        'import log' as check_name, 'imports' as table_name,
        'rows_read is not rows_loaded + rows_rejected' as problem, count(*) as count_rows,
        min(import_id)::varchar as example,
    from imports
    where rows_read != rows_loaded + rows_rejected or rows_loaded < 0 or rows_rejected < 0
    union all
    select
        'import log', 'imports', 'rows_rejected differs from the lines in rejects', count(*), min(i.import_id)::varchar
    from imports as i
    left join (
        select import_id, count(distinct coalesce(line, -1)) as lines from rejects group by import_id
    ) as r on i.import_id = r.import_id
    where i.rows_rejected != coalesce(r.lines, 0)
),

-- deals a full snapshot (import --full-snapshot) no longer had, while the warehouse holds them open
snapshots as (
    select
        'snapshots' as check_name, 'deals' as table_name,
        'open deal missing from a later full snapshot (deleted or merged in the CRM?)' as problem,
        count(*) as count_rows, min(deal_id) as example,
    from deals
    where missing_since is not null and outcome = 'open'
),

final as (
    select * from duplicate_keys
    union all
    select * from dangling
    union all
    select * from stage_order
    union all
    select * from durations
    union all
    select * from accounting
    union all
    select * from snapshots
)

select * from final
where count_rows > 0
order by check_name, table_name, problem
