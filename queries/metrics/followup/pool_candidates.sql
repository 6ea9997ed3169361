-- Pool candidates: owned customers without activity for more than $pool_days days.
--
-- grain: one row per candidate, by value descending, then customer_id; at most $list_limit
--   rows (null: all).
-- params: as followup_customers.sql, plus $list_limit.
-- definitions: see customer_followup in queries/macros/followup.sql (a customer never
--   contacted is a candidate once known for more than $pool_days days).
-- invariant (not checked): the count (without limit) = count_pool_candidates of followup_compliance.

with

followup as (
    select * from customer_followup(
        $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
    )
),

customer_names as (select customer_id, name, from customers),

final as (
    select
        followup.customer_id,
        customer_names.name,
        followup.owner_rep_id,
        followup.tier,
        followup.value,
        followup.last_activity_at::date as last_activity_date,
        followup.days_since_activity,
        followup.known_since_date,
    from followup
    left join customer_names on followup.customer_id = customer_names.customer_id
    where followup.is_pool_candidate
)

select * from final
order by value desc, customer_id asc
limit $list_limit
