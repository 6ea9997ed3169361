-- Duplicate ids: per canonical data table, how many values of its natural key occur on more
-- than one row. Imports deduplicate by the key, so this is usually 0; it is counted, not assumed.
--
-- grain: one row per canonical data table, in schema order, with the table's natural key
--   (``schema.TABLE_SPECS[table].key``, columns joined by ', '); a table without rows has its row.
-- params: none; the whole warehouse as loaded.
-- columns: table_name, key_columns, count_rows, count_keys (distinct key values),
--   count_duplicate_keys (key values on more than one row),
--   count_extra_rows (rows beyond the first of each key value: what deduplicating would remove).
-- invariant: count_rows = count_keys + count_extra_rows
-- invariant: count_duplicate_keys <= count_extra_rows
-- invariant: (count_duplicate_keys = 0) = (count_extra_rows = 0)

with

customers as (select * from customers),

reps as (select * from reps),

targets as (select * from targets),

deals as (select * from deals),

deal_stage_history as (select * from deal_stage_history),

orders as (select * from orders),

activities as (select * from activities),

natural_keys as (
    select *
    from (
        values
        (1, 'customers', 'customer_id'),
        (2, 'reps', 'rep_id'),
        (3, 'targets', 'rep_id, period_start, period_end'),
        (4, 'deals', 'deal_id'),
        (5, 'deal_stage_history', 'deal_id, stage, entered_at'),
        (6, 'orders', 'order_id'),
        (7, 'activities', 'activity_id')
    ) as natural_keys (table_order, table_name, key_columns)
),

-- one row per key value of each table, with how many rows hold it
key_values as (
    select 'customers' as table_name, count(*) as count_rows, from customers group by customer_id
    union all
    select 'reps' as table_name, count(*) as count_rows, from reps group by rep_id
    union all
    select 'targets' as table_name, count(*) as count_rows, from targets group by rep_id, period_start, period_end
    union all
    select 'deals' as table_name, count(*) as count_rows, from deals group by deal_id
    union all
    select 'deal_stage_history' as table_name, count(*) as count_rows,
    from deal_stage_history
    group by deal_id, stage, entered_at
    union all
    select 'orders' as table_name, count(*) as count_rows, from orders group by order_id
    union all
    select 'activities' as table_name, count(*) as count_rows, from activities group by activity_id
),

final as (
    select
        natural_keys.table_order,
        natural_keys.table_name,
        natural_keys.key_columns,
        coalesce(sum(key_values.count_rows), 0)::bigint as count_rows,
        count(key_values.count_rows) as count_keys,
        count(key_values.count_rows) filter (where key_values.count_rows > 1) as count_duplicate_keys,
        coalesce(sum(key_values.count_rows - 1), 0)::bigint as count_extra_rows,
    from natural_keys
    left join key_values on natural_keys.table_name = key_values.table_name
    group by natural_keys.table_order, natural_keys.table_name, natural_keys.key_columns
)

select
    table_name,
    key_columns,
    count_rows,
    count_keys,
    count_duplicate_keys,
    count_extra_rows,
from final
order by table_order
