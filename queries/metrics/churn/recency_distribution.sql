-- Recency distribution at the as-of date: customers per recency bin and lifecycle state.
--
-- grain: one row per recency bin and state with at least one customer, among customers with
--   a purchase on or before $as_of. Bin b holds recency_days in
--   [b * $bin_days, (b + 1) * $bin_days).
-- params: $as_of (date); $window_start (date): the period's first day; $new_days,
--   $active_days, $churn_days (integers); $bin_days (integer > 0).
-- columns: recency_bin_start_days, recency_bin_end_days (exclusive), lifecycle_state,
--   state_rank, count_customers.
-- The counts sum to the customers of lifecycle_states.sql at $as_of:
-- invariant: sum(count_customers) over ()
--   = (select count(*) from lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days))
-- invariant: recency_bin_end_days = recency_bin_start_days + $bin_days

with

states as (select * from lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days)),

state_list as (select * from lifecycle_state_list),

binned as (
    select
        (states.recency_days // $bin_days::integer) * $bin_days::integer as recency_bin_start_days,
        states.lifecycle_state,
    from states
),

final as (
    select
        binned.recency_bin_start_days,
        binned.recency_bin_start_days + $bin_days::integer as recency_bin_end_days,
        binned.lifecycle_state,
        state_list.state_rank,
        count(*) as count_customers,
    from binned
    inner join state_list on binned.lifecycle_state = state_list.lifecycle_state
    group by binned.recency_bin_start_days, binned.lifecycle_state, state_list.state_rank
)

select * from final
order by recency_bin_start_days, state_rank
