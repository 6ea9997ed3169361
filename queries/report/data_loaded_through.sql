-- The last calendar date the warehouse holds data for, shown in a report's header as
-- "data loaded through": the latest deal creation, deal close, stage change or order date.
--
-- grain: one row.
-- params: none.
-- invariants: loaded_through_date is null only when deals, deal_stage_history and orders
--   are all empty (or hold no dates).

with

deals as (select * from deals),

deal_stage_history as (select * from deal_stage_history),

orders as (select * from orders),

last_dates as (
    select max(created_at)::date as last_date, from deals
    union all
    select max(closed_at)::date as last_date, from deals
    union all
    select max(entered_at)::date as last_date, from deal_stage_history
    union all
    select max(order_date) as last_date, from orders
),

final as (
    select max(last_date) as loaded_through_date,
    from last_dates
)

select * from final
