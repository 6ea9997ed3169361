-- Stale deals: open at the as-of date with no stage change in the last $stale_days days.
--
-- grain: one row per stale deal, largest amount first (ties: longest without change,
--   then deal_id).
-- params: $as_of (date); $stale_days (integer); $pipeline (varchar): only the deals of this
--   pipeline ('' = without one), null = every deal.
-- definitions: the last change is the latest history row up to the as-of date, or
--   created_at for a deal with none; stale when as-of - last change >= $stale_days days.
--   Deals without created_at and without history cannot be dated and are left out.
--   The definition is the stale_deals macro (queries/macros/deals.sql); stale_list.sql gives the
--   funnel's totals and first rows.

with

final as (select * from stale_deals($as_of, $stale_days, $pipeline))

select
    deal_id,
    customer_id,
    owner_rep_id,
    stage,
    amount,
    last_change_date,
    days_since_change,
from final
order by amount desc nulls last, days_since_change desc, deal_id asc
