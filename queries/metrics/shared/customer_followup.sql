-- Fill the snapshot's shared follow-up state at $as_of (queries/macros/followup.sql). A no-op
-- once shared (share.sql lists it) or filled: one statement inserts all its rows or none.
-- params: $as_of (date); $tier_a_share, $tier_b_share, $value_window_months: the tier settings;
--   $cadence_a, $cadence_b, $cadence_c, $pool_days (integers).
insert into shared_customer_followup
select
    keyed.state_key,
    followup.customer_id,
    followup.owner_rep_id,
    followup.tier,
    followup.value,
    followup.last_activity_at,
    followup.days_since_activity,
    followup.cadence_days,
    followup.known_since_date,
    followup.is_never_contacted,
    followup.is_overdue,
    followup.is_pool_candidate,
from (
    select
        customer_followup_key(
            $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
        ) as state_key
) as keyed
cross join
    customer_followup(
        $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
    ) as followup
where not is_shared('customer_followup', keyed.state_key)
    and keyed.state_key not in (select filled.state_key from shared_customer_followup as filled)
