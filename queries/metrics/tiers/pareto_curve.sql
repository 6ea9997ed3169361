-- The Pareto curve: cumulative share of value held by the first customers in ABC order.
--
-- grain: one row per point; the points are k = ceil(p x n / ($points - 1)) customers for
--   p = 0 .. $points - 1 (duplicates dropped), so the curve has at most $points points and
--   its first point is (0, 0) and its last (1, 1). No rows when no customer is known.
-- params: $as_of (date); $tier_a_share, $tier_b_share (fractions); $value_window_months (integer);
--   $points (integer >= 2, e.g. 101 for every percent of customers).
-- columns: count_customers (k), share_of_customers (k / n), share_of_value (value of the
--   first k / total; null when the total is zero), tier (ABC tier of the k-th customer).
-- invariant: share_of_value >= lag(share_of_value) over (order by count_customers)
-- invariant (not checked): share_of_value is concave in share_of_customers.

with

ranked as (select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)),

totals as (select count(*) as count_customers, sum(value) as total_value, from ranked),

grid as (
    select distinct
        ((steps.step * totals.count_customers + $points - 2) // ($points - 1))::bigint as count_customers,
    from totals
    cross join range(0, $points) as steps (step)
    where totals.count_customers > 0
),

final as (
    select
        grid.count_customers,
        grid.count_customers / totals.count_customers as share_of_customers,
        (
            coalesce(ranked.cumulative_before + ranked.value, 0) / nullif(totals.total_value, 0)
        )::double as share_of_value,
        ranked.tier,
    from grid
    cross join totals
    left join ranked on grid.count_customers = ranked.value_rank
)

select * from final
order by count_customers
