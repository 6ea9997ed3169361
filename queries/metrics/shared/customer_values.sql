-- Fill the snapshot's shared customer values at $as_of (queries/macros/customers.sql). A no-op
-- once shared (share.sql lists it) or filled: one statement inserts all its rows or none.
-- params: $as_of (date); $value_window_months (integer).
insert into shared_customer_values
select
    keyed.state_key,
    customer_values.customer_id,
    customer_values.value,
from (select customer_values_key($as_of, $value_window_months) as state_key) as keyed
cross join customer_values($as_of, $value_window_months) as customer_values
where not is_shared('customer_values', keyed.state_key)
    and keyed.state_key not in (select filled.state_key from shared_customer_values as filled)
