-- The customers of one ABC tier at the as-of date, most valuable first: the drill-down
-- from a tier.
--
-- grain: one row per customer in tier $tier (customer_tiers, queries/macros/customers.sql),
--   by value descending then customer_id; at most $row_limit rows.
-- params: $tier (A | B | C); $as_of (date); $tier_a_share, $tier_b_share,
--   $value_window_months: the ABC tier settings; $row_limit (integer).
-- columns: customer_id, customer_name, owner_rep_id, rep_name, team, region, value,
--   last_order_date (on or before the as-of date), count_customers (all in the tier).
-- invariant: value >= 0

with

customers as (select * from customers),

reps as (select * from reps),

orders as (select * from orders),

tiers as (select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)),

in_tier as (
    select customer_id, value,
    from tiers
    where tier = $tier::varchar
),

last_orders as (
    select
        orders.customer_id,
        max(orders.order_date)::date as last_order_date,
    from orders
    inner join in_tier on orders.customer_id = in_tier.customer_id
    where orders.order_date < $as_of::date + interval 1 day
    group by orders.customer_id
),

final as (
    select
        in_tier.customer_id,
        customers.name as customer_name,
        customers.owner_rep_id,
        reps.name as rep_name,
        reps.team,
        coalesce(customers.region, reps.region) as region,
        in_tier.value,
        last_orders.last_order_date,
        count(*) over () as count_customers,
    from in_tier
    left join customers on in_tier.customer_id = customers.customer_id
    left join reps on customers.owner_rep_id = reps.rep_id
    left join last_orders on in_tier.customer_id = last_orders.customer_id
)

select * from final
order by value desc, customer_id asc
limit $row_limit
