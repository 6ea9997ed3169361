-- Date span: for every date or timestamp column of the canonical data tables, its first and
-- last date, and how many rows fall in the period and after the as-of date.
--
-- grain: one row per date/timestamp column of the canonical data tables (customers.created_at,
--   targets.period_start, targets.period_end, deals.created_at, deals.closed_at,
--   deal_stage_history.entered_at, orders.order_date, activities.occurred_at), in schema order;
--   a column without dated rows has its row with null dates and zero counts.
-- params: $period_start, $period_end (date): the period; $as_of (date): the as-of date.
-- columns: table_name, column_name, first_date, last_date (dates; a timestamp's date),
--   count_dated (rows with a value), count_in_period (rows whose date is in the period),
--   count_after_as_of (rows whose date is after $as_of: what a metric as of it does not see).
-- invariant: count_in_period <= count_dated and count_after_as_of <= count_dated
-- invariant: first_date <= last_date
-- invariant: (first_date is null) = (count_dated = 0)

with

customers as (select * from customers),

targets as (select * from targets),

deals as (select * from deals),

deal_stage_history as (select * from deal_stage_history),

orders as (select * from orders),

activities as (select * from activities),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date as as_of_date,
),

dated_columns as (
    select *
    from (
        values
        (1, 'customers', 'created_at'),
        (2, 'targets', 'period_start'),
        (3, 'targets', 'period_end'),
        (4, 'deals', 'created_at'),
        (5, 'deals', 'closed_at'),
        (6, 'deal_stage_history', 'entered_at'),
        (7, 'orders', 'order_date'),
        (8, 'activities', 'occurred_at')
    ) as dated_columns (column_order, table_name, column_name)
),

-- one row per dated value (nulls left out)
dated_values as (
    select 'customers' as table_name, 'created_at' as column_name, created_at::date as value_date,
    from customers
    where created_at is not null
    union all
    select 'targets' as table_name, 'period_start' as column_name, period_start as value_date,
    from targets
    union all
    select 'targets' as table_name, 'period_end' as column_name, period_end as value_date,
    from targets
    union all
    select 'deals' as table_name, 'created_at' as column_name, created_at::date as value_date,
    from deals
    where created_at is not null
    union all
    select 'deals' as table_name, 'closed_at' as column_name, closed_at::date as value_date,
    from deals
    where closed_at is not null
    union all
    select 'deal_stage_history' as table_name, 'entered_at' as column_name, entered_at::date as value_date,
    from deal_stage_history
    union all
    select 'orders' as table_name, 'order_date' as column_name, order_date as value_date,
    from orders
    union all
    select 'activities' as table_name, 'occurred_at' as column_name, occurred_at::date as value_date,
    from activities
),

final as (
    select
        dated_columns.column_order,
        dated_columns.table_name,
        dated_columns.column_name,
        min(dated_values.value_date) as first_date,
        max(dated_values.value_date) as last_date,
        count(dated_values.value_date) as count_dated,
        count(dated_values.value_date) filter (
            where dated_values.value_date between params.period_start and params.period_end
        ) as count_in_period,
        count(dated_values.value_date) filter (where dated_values.value_date > params.as_of_date) as count_after_as_of,
    from dated_columns
    cross join params
    left join dated_values
        on dated_columns.table_name = dated_values.table_name
            and dated_columns.column_name = dated_values.column_name
    group by dated_columns.column_order, dated_columns.table_name, dated_columns.column_name
)

select
    table_name,
    column_name,
    first_date,
    last_date,
    count_dated,
    count_in_period,
    count_after_as_of,
from final
order by column_order
