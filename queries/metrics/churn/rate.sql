-- Churn rate of a period, per group (DESIGN.md "Churn and lifecycle").
--
-- churn_rate = customers not churned at the day before the period starts and churned at the
-- as-of date / customers not churned at the day before the period starts. The state at the
-- day before uses the period before as its window for "reactivated" ($previous_start).
-- grain: one row per group of customers not churned at the day before the period starts;
--   with $by = 'all' one row, 'all', present even when there are none (churn_rate null).
-- params: $period_start (date); $previous_start (date): the first day of the period before
--   (its last day is $period_start - 1); $as_of (date); $new_days, $active_days,
--   $churn_days (integers); $by: all | rep | team | channel | tier | region; $tier_a_share,
--   $tier_b_share, $value_window_months: the ABC tier settings (tiers as of $as_of);
--   $only_group (varchar): only this group of $by, null = every group.
-- columns: count_start_customers, count_churned_customers, churn_rate.
-- invariant: count_churned_customers <= count_start_customers

with

params as (
    select $by::varchar as group_by,
),

at_start as (
    select *
    from lifecycle_states(
        $period_start::date - interval 1 day, $previous_start, $new_days, $active_days, $churn_days
    )
),

at_end as (select * from lifecycle_states($as_of, $period_start, $new_days, $active_days, $churn_days)),

-- the customers of $only_group alone when given
buyer_groups as (
    select *
    from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)
    where $only_group::varchar is null or group_key = $only_group::varchar
),

start_customers as (
    select
        buyer_groups.group_key,
        at_start.customer_id,
        at_end.lifecycle_state = 'churned' as is_churned_at_end,
    from at_start
    inner join buyer_groups on at_start.customer_id = buyer_groups.customer_id
    inner join at_end on at_start.customer_id = at_end.customer_id
    where at_start.lifecycle_state <> 'churned'
),

groups as (
    select group_key from start_customers
    union
    select 'all' from params where group_by = 'all'
),

final as (
    select
        groups.group_key,
        count(start_customers.customer_id) as count_start_customers,
        count(start_customers.customer_id) filter (where start_customers.is_churned_at_end)
            as count_churned_customers,
        (
            count(start_customers.customer_id) filter (where start_customers.is_churned_at_end)
            / nullif(count(start_customers.customer_id), 0)
        ) as churn_rate,
    from groups
    left join start_customers on groups.group_key = start_customers.group_key
    group by groups.group_key
)

select * from final
order by group_key
