-- Workload and target attainment per rep.
--
-- grain: one row per rep (from reps, owners of customers in the universe, or targets
--   overlapping the period), by rep_id.
-- params: $as_of, $period_start, $period_end (dates); $tier_a_share, $tier_b_share (fractions);
--   $value_window_months (integer).
-- definitions: see rep_workload in queries/macros/followup.sql. attainment =
--   target_won_amount / target_amount (null without a target or with a zero target).
-- invariant: count_a_customers <= count_customers
-- invariant: count_customers is not null and count_a_customers is not null

with

workload as (
    select * from rep_workload($as_of, $period_start, $period_end, $tier_a_share, $tier_b_share, $value_window_months)
),

final as (
    select
        rep_id,
        name,
        team,
        count_customers,
        count_a_customers,
        won_amount::decimal(18, 2) as won_amount,
        target_amount::decimal(18, 2) as target_amount,
        target_won_amount::decimal(18, 2) as target_won_amount,
        (target_won_amount / nullif(target_amount, 0))::double as attainment,
        target_start_date,
        target_end_date,
    from workload
)

select * from final
order by rep_id
