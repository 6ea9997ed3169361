-- Fill the snapshot's shared lifecycle states at $as_of (queries/macros/purchases.sql). A no-op
-- once shared (share.sql lists it) or filled: one statement inserts all its rows or none.
-- params: $as_of (date); $window_start (date); $new_days, $active_days, $churn_days (integers).
insert into shared_lifecycle_states
select
    keyed.state_key,
    states.customer_id,
    states.first_purchase_date,
    states.last_purchase_date,
    states.count_purchases,
    states.count_purchase_days,
    states.median_gap_days,
    states.recency_days,
    states.age_days,
    states.lifecycle_state,
from (select lifecycle_states_key($as_of, $window_start, $new_days, $active_days, $churn_days) as state_key) as keyed
cross join lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days) as states
where not is_shared('lifecycle_states', keyed.state_key)
    and keyed.state_key not in (select filled.state_key from shared_lifecycle_states as filled)
