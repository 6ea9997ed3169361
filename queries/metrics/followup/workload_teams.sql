-- Workload and target attainment per team (the sum of its reps).
--
-- grain: one row per team of the reps in workload.sql (reps without a team: team ''), by team.
-- params: as workload.sql.
-- definitions: attainment = sum(target_won_amount) / sum(target_amount) over the team's
--   reps with a target (null when none has one).
-- invariant: count_a_customers <= count_customers
-- invariant (not checked): the team rows sum to the rep rows of workload.sql.

with

workload as (
    select * from rep_workload($as_of, $period_start, $period_end, $tier_a_share, $tier_b_share, $value_window_months)
),

final as (
    select
        coalesce(team, '') as team,
        count(*) as count_reps,
        sum(count_customers) as count_customers,
        sum(count_a_customers) as count_a_customers,
        sum(won_amount)::decimal(18, 2) as won_amount,
        sum(target_amount)::decimal(18, 2) as target_amount,
        sum(target_won_amount)::decimal(18, 2) as target_won_amount,
        (sum(target_won_amount) / nullif(sum(target_amount), 0))::double as attainment,
    from workload
    group by coalesce(team, '')
)

select * from final
order by team
