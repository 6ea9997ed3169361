-- Fill the snapshot's shared purchase days (queries/macros/purchases.sql). A no-op once shared
-- (share.sql lists it) or filled: one statement inserts all its rows or none.
insert into shared_purchase_days
select
    purchase_days.customer_id,
    purchase_days.purchase_date,
    purchase_days.count_day_purchases,
    purchase_days.amount,
    purchase_days.day_number,
    purchase_days.previous_purchase_date,
    purchase_days.gap_days,
from purchase_days
where not is_shared('purchase_days', '')
    and not exists (select 1 from shared_purchase_days as filled)
