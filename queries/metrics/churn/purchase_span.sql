-- How far the order data reach, up to the as-of date: where the purchase history begins
-- (a customer who bought before it looks new at first), and how many customers have bought.
--
-- grain: one row.
-- params: $as_of (date).
-- columns: first_order_date (any order), first_purchase_date, last_purchase_date (purchases =
--   orders with amount > 0), count_buyers (customers with a purchase); dates null and
--   count_buyers 0 without any.

with

orders as (select * from orders),

purchase_history as (select * from purchase_history),

final as (
    select
        (select min(orders.order_date) from orders where orders.order_date <= $as_of::date) as first_order_date,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        count(distinct customer_id) as count_buyers,
    from purchase_history
    where order_date <= $as_of::date
)

select * from final
