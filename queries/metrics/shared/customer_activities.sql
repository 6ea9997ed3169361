-- Fill the snapshot's shared activities with their customers (queries/macros/followup.sql). A
-- no-op once shared (share.sql lists it) or filled: one statement inserts all its rows or none.
insert into shared_customer_activities
select
    customer_activities.activity_id,
    customer_activities.customer_id,
    customer_activities.rep_id,
    customer_activities.kind,
    customer_activities.occurred_at,
from customer_activities
where not is_shared('customer_activities', '')
    and not exists (select 1 from shared_customer_activities as filled)
