-- Completeness of the canonical data: for every column of every data table, how many rows
-- hold a value.
--
-- grain: one row per column of the canonical data tables, tables in schema order (customers,
--   reps, targets, deals, deal_stage_history, orders, activities), columns in table order.
--   The columns are those the schema migrations created (columns(*)): a column a migration
--   adds is counted without editing this file, except the import's own bookkeeping
--   (schema.MANAGED_COLUMNS: attributes, exported_at, missing_since), which no export fills
--   as such. A table without rows still has its rows here.
-- params: none; the whole warehouse as loaded.
-- columns: table_name, column_name, count_rows (rows of the table), count_non_null (rows whose
--   value is not null), share_non_null (fraction; null when the table has no rows).
-- invariant: count_non_null <= count_rows
-- invariant: count(*) over (partition by table_name, column_name) = 1

with

customers as (select * from customers),

reps as (select * from reps),

targets as (select * from targets),

deals as (select * from deals),

deal_stage_history as (select * from deal_stage_history),

orders as (select * from orders),

activities as (select * from activities),

warehouse_columns as (
    select
        table_name,
        column_name,
        ordinal_position,
    from information_schema.columns
    where table_catalog = current_database() and table_schema = current_schema()
),

data_tables as (
    select *
    from (
        values
        (1, 'customers'),
        (2, 'reps'),
        (3, 'targets'),
        (4, 'deals'),
        (5, 'deal_stage_history'),
        (6, 'orders'),
        (7, 'activities')
    ) as data_tables (table_order, table_name)
),

table_rows as (
    select 'customers' as table_name, count(*) as count_rows, from customers
    union all
    select 'reps' as table_name, count(*) as count_rows, from reps
    union all
    select 'targets' as table_name, count(*) as count_rows, from targets
    union all
    select 'deals' as table_name, count(*) as count_rows, from deals
    union all
    select 'deal_stage_history' as table_name, count(*) as count_rows, from deal_stage_history
    union all
    select 'orders' as table_name, count(*) as count_rows, from orders
    union all
    select 'activities' as table_name, count(*) as count_rows, from activities
),

-- one row per column: count(column) of each, unpivoted
column_values as (
    select 'customers' as table_name, column_name, count_non_null,
    from (
        unpivot (select count(columns(* exclude (attributes, exported_at))) from customers) on columns(*)
        into name column_name value count_non_null
    )
    union all
    select 'reps' as table_name, column_name, count_non_null,
    from (unpivot (select count(columns(*)) from reps) on columns(*) into name column_name value count_non_null)
    union all
    select 'targets' as table_name, column_name, count_non_null,
    from (unpivot (select count(columns(*)) from targets) on columns(*) into name column_name value count_non_null)
    union all
    select 'deals' as table_name, column_name, count_non_null,
    from (
        unpivot (select count(columns(* exclude (attributes, exported_at, missing_since))) from deals) on columns(*)
        into name column_name value count_non_null
    )
    union all
    select 'deal_stage_history' as table_name, column_name, count_non_null,
    from (
        unpivot (select count(columns(*)) from deal_stage_history) on columns(*)
        into name column_name value count_non_null
    )
    union all
    select 'orders' as table_name, column_name, count_non_null,
    from (unpivot (select count(columns(*)) from orders) on columns(*) into name column_name value count_non_null)
    union all
    select 'activities' as table_name, column_name, count_non_null,
    from (unpivot (select count(columns(*)) from activities) on columns(*) into name column_name value count_non_null)
),

final as (
    select
        data_tables.table_order,
        warehouse_columns.ordinal_position,
        column_values.table_name,
        column_values.column_name,
        table_rows.count_rows,
        column_values.count_non_null,
        column_values.count_non_null / nullif(table_rows.count_rows, 0) as share_non_null,
    from column_values
    inner join data_tables on column_values.table_name = data_tables.table_name
    inner join table_rows on column_values.table_name = table_rows.table_name
    inner join warehouse_columns
        on column_values.table_name = warehouse_columns.table_name
            and column_values.column_name = warehouse_columns.column_name
)

select
    table_name,
    column_name,
    count_rows,
    count_non_null,
    share_non_null,
from final
order by table_order, ordinal_position
