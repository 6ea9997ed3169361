-- Follow-up state of every customer known at the as-of date.
--
-- grain: one row per customer of the universe, by customer_id.
-- params: $as_of (date); $tier_a_share, $tier_b_share (fractions); $value_window_months (integer);
--   $cadence_a, $cadence_b, $cadence_c (days allowed between activities per tier);
--   $pool_days (integer).
-- definitions: see customer_followup in queries/macros/followup.sql: days since the last
--   activity (any rep, on or before the as-of date); overdue above the tier's cadence or with
--   no activity ever; pool candidate when owned and without activity for more than $pool_days.
-- invariant: not is_never_contacted or is_overdue
-- invariant: days_since_activity >= 0

with

followup as (
    select * from customer_followup(
        $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
    )
),

final as (
    select
        customer_id,
        owner_rep_id,
        tier,
        value,
        last_activity_at::date as last_activity_date,
        days_since_activity,
        cadence_days,
        is_never_contacted,
        is_overdue,
        is_pool_candidate,
    from followup
)

select * from final
order by customer_id
