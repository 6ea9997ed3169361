-- Flows between lifecycle states: the state at the comparison period's as-of date against the
-- state at this period's as-of date, per group (DESIGN.md "Churn and lifecycle").
--
-- A customer with no purchase by the comparison as-of date comes from 'none'.
-- grain: one row per group, from_state and to_state with at least one customer; customers
--   with a purchase on or before $as_of.
-- params: $as_of, $window_start (date): this period's as-of date and first day;
--   $comparison_as_of, $comparison_start (date): the comparison period's; $new_days,
--   $active_days, $churn_days (integers); $by: all | rep | team | channel | tier | region;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (tiers as of $as_of).
-- columns: from_state, to_state, from_rank (0 for none), to_rank, count_customers.
-- invariant: count_customers > 0
-- invariant (not checked): per group, the sum over from_state of count_customers for a
--   to_state equals that state's count in lifecycle_states.sql at $as_of.

with

now_states as (select * from lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days)),

before_states as (
    select * from lifecycle_states($comparison_as_of, $comparison_start, $new_days, $active_days, $churn_days)
),

state_list as (select * from lifecycle_state_list),

buyer_groups as (select * from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)),

moves as (
    select
        buyer_groups.group_key,
        now_states.customer_id,
        coalesce(before_states.lifecycle_state, 'none') as from_state,
        now_states.lifecycle_state as to_state,
    from now_states
    inner join buyer_groups on now_states.customer_id = buyer_groups.customer_id
    left join before_states on now_states.customer_id = before_states.customer_id
),

final as (
    select
        moves.group_key,
        moves.from_state,
        moves.to_state,
        coalesce(from_list.state_rank, 0) as from_rank,
        to_list.state_rank as to_rank,
        count(*) as count_customers,
    from moves
    left join state_list as from_list on moves.from_state = from_list.lifecycle_state
    inner join state_list as to_list on moves.to_state = to_list.lifecycle_state
    group by moves.group_key, moves.from_state, moves.to_state, from_list.state_rank, to_list.state_rank
)

select * from final
order by group_key, from_rank, to_rank
