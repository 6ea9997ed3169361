-- One customer's orders up to the as-of date, latest first: a drill-down table.
--
-- grain: one row per order of $customer_id dated on or before the as-of date; at most
--   $row_limit rows, latest first (ties: order_id).
-- params: $customer_id (varchar); $as_of (date); $row_limit (integer).
-- columns: order_id, order_date, amount, count_orders and total_amount (over all of them).

with

orders as (select * from orders),

of_customer as (
    select order_id, order_date, amount,
    from orders
    where customer_id = $customer_id::varchar
        and order_date < $as_of::date + interval 1 day
),

final as (
    select
        order_id,
        order_date,
        amount,
        count(*) over () as count_orders,
        sum(amount) over () as total_amount,
    from of_customer
)

select * from final
order by order_date desc, order_id asc
limit $row_limit
