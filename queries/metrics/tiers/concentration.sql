-- How concentrated customer value is, per group: top-20 % share and Gini coefficient.
--
-- grain: one row per group; for $by = 'all' the single group 'all' is present even with no
--   customers.
-- params: $as_of (date); $value_window_months (integer); $by (all | rep | team | channel | region).
-- definitions: customers in ABC order (value descending, customer_id ascending);
--   top20_value_share = value of the first ceil(0.2 x n) customers / total value;
--   gini = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)), computed as
--   sum_i (2i - n - 1) x_(i) / (n x total) over the values in ascending order.
--   Both are null when the total value is zero. has_orders: the warehouse holds orders
--   (values are net order amounts), else values are won deal amounts.
-- invariant: gini between -1e-9 and 1 - 1 / count_customers + 1e-9
-- invariant: top20_value_share >= ceil(0.2 * count_customers) / count_customers - 1e-9

with

valued as (select * from customer_values($as_of, $value_window_months)),

group_keys as (select * from customer_groups($by)),

ranked as (
    select
        group_keys.group_key,
        valued.value,
        row_number() over (
            partition by group_keys.group_key order by valued.value desc, valued.customer_id asc
        ) as value_rank,
        row_number() over (
            partition by group_keys.group_key order by valued.value, valued.customer_id
        ) as ascending_rank,
        count(*) over (partition by group_keys.group_key) as count_customers,
    from valued
    left join group_keys on valued.customer_id = group_keys.customer_id
),

group_stats as (
    select
        group_key,
        any_value(count_customers) as count_customers,
        sum(value) as total_value,
        sum(value) filter (where value_rank <= (count_customers + 4) // 5) as top20_value,
        sum((2 * ascending_rank - count_customers - 1) * value) as gini_numerator,
    from ranked
    group by group_key
),

group_list as (
    select group_key, from group_stats
    union
    select 'all' as group_key, where $by = 'all'
),

final as (
    select
        group_list.group_key,
        coalesce(group_stats.count_customers, 0) as count_customers,
        coalesce(group_stats.total_value, 0)::decimal(18, 2) as total_value,
        (group_stats.top20_value / nullif(group_stats.total_value, 0))::double as top20_value_share,
        (
            group_stats.gini_numerator / nullif(group_stats.count_customers * group_stats.total_value, 0)
        )::double as gini,
        (select count(*) from orders) > 0 as has_orders,
    from group_list
    left join group_stats on group_list.group_key = group_stats.group_key
)

select * from final
order by group_key
