-- Fill the snapshot's shared customer universe at $as_of (queries/macros/customers.sql). A
-- no-op once shared (share.sql lists it) or filled: one statement inserts all its rows or none.
-- params: $as_of (date).
insert into shared_customer_universe
select
    keyed.state_key,
    universe.customer_id,
    universe.known_since_date,
from (select customer_universe_key($as_of) as state_key) as keyed
cross join customer_universe($as_of) as universe
where not is_shared('customer_universe', keyed.state_key)
    and keyed.state_key not in (select filled.state_key from shared_customer_universe as filled)
