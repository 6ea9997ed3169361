-- How many customers are in each lifecycle state at the as-of date, per group
-- (DESIGN.md "Churn and lifecycle"; the states are defined in queries/macros/purchases.sql).
--
-- grain: one row per group per state (new, reactivated, active, dormant, churned, in that
--   order, zeros included). Groups are the values of the $by dimension among customers with
--   a purchase on or before $as_of; with $by = 'all' one group, 'all', present even when
--   nobody has bought yet.
-- params: $as_of (date); $window_start (date): the period's first day (a purchase on or
--   after it that ends a gap > $churn_days makes a customer reactivated); $new_days,
--   $active_days, $churn_days (integers); $by: all | rep | team | channel | tier | region;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (tiers as of $as_of).
-- columns: lifecycle_state, state_rank, count_customers, count_group_customers (every state
--   of the group), share_of_customers (null for an empty group).
-- invariant: sum(count_customers) over (partition by group_key) = count_group_customers
-- invariant: count(*) over (partition by group_key) = 5

with

states as (select * from lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days)),

state_list as (select * from lifecycle_state_list),

buyer_groups as (select * from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)),

params as (select $by::varchar as group_by),

grouped as (
    select buyer_groups.group_key, states.customer_id, states.lifecycle_state,
    from states
    inner join buyer_groups on states.customer_id = buyer_groups.customer_id
),

groups as (
    select group_key from grouped
    union
    select 'all' from params where group_by = 'all'
),

counts as (
    select
        groups.group_key,
        state_list.lifecycle_state,
        state_list.state_rank,
        count(grouped.customer_id) as count_customers,
    from groups
    cross join state_list
    left join grouped
        on groups.group_key = grouped.group_key and state_list.lifecycle_state = grouped.lifecycle_state
    group by groups.group_key, state_list.lifecycle_state, state_list.state_rank
),

final as (
    select
        group_key,
        lifecycle_state,
        state_rank,
        count_customers,
        (sum(count_customers) over (partition by group_key))::bigint as count_group_customers,
        count_customers / nullif(sum(count_customers) over (partition by group_key), 0) as share_of_customers,
    from counts
)

select * from final
order by group_key, state_rank
