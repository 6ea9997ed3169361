-- Deals whose stage history crm-review built instead of importing it, by origin.
--
-- grain: one row per origin, always both: 'inferred' (one snapshot of a current-stage-only
--   export: first stage at created_at, won/lost at closed_at) and 'snapshots' (two or more
--   snapshots: each stage change dated at the later one). Only deals present in deals count.
-- params: none; the whole warehouse as loaded.
-- columns: origin, count_deals, share_of_deals (of all deals; null without deals).
-- invariant (not checked): sum(count_deals) <= the number of distinct deals (another query's result)

with

deals as (select * from deals),

deal_history_origin as (select * from deal_history_origin),

origins as (
    select * from (values (1, 'inferred'), (2, 'snapshots')) as origins (origin_order, origin)
),

all_deals as (
    select count(distinct deal_id) as count_deals,
    from deals
),

deal_origins as (
    select distinct
        deal_history_origin.deal_id,
        deal_history_origin.origin,
    from deal_history_origin
    semi join deals on deal_history_origin.deal_id = deals.deal_id
),

final as (
    select
        origins.origin_order,
        origins.origin,
        count(deal_origins.deal_id) as count_deals,
        count(deal_origins.deal_id) / nullif(any_value(all_deals.count_deals), 0) as share_of_deals,
    from origins
    cross join all_deals
    left join deal_origins on origins.origin = deal_origins.origin
    group by origins.origin_order, origins.origin
)

select
    origin,
    count_deals,
    share_of_deals,
from final
order by origin_order
