-- Fill the snapshot's shared ABC tiers at $as_of (queries/macros/customers.sql). A no-op once
-- shared (share.sql lists it) or filled: one statement inserts all its rows or none.
-- params: $as_of (date); $tier_a_share, $tier_b_share, $value_window_months: the tier settings.
insert into shared_customer_tiers
select
    keyed.state_key,
    tiers.customer_id,
    tiers.value,
    tiers.value_rank,
    tiers.cumulative_before,
    tiers.total_value,
    tiers.tier,
from (select customer_tiers_key($as_of, $tier_a_share, $tier_b_share, $value_window_months) as state_key) as keyed
cross join customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months) as tiers
where not is_shared('customer_tiers', keyed.state_key)
    and keyed.state_key not in (select filled.state_key from shared_customer_tiers as filled)
