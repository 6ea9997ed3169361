-- What the opened warehouse snapshot holds: the date span of its deals and orders and the
-- last import, for the explore header and its period choices.
--
-- grain: one row.
-- params: none.
-- columns: first_date, last_date (the earliest and latest deal created/closed or order date),
--   last_import_at (finished_at of the latest import), count_imports.

with

deals as (select * from deals),

orders as (select * from orders),

imports as (select * from imports),

dates as (
    select created_at::date as on_date from deals
    union all
    select closed_at::date as on_date from deals
    union all
    select order_date::date as on_date from orders
),

final as (
    select
        (select min(on_date) from dates) as first_date,
        (select max(on_date) from dates) as last_date,
        (select max(finished_at) from imports) as last_import_at,
        (select count(*) from imports) as count_imports,
)

select * from final
