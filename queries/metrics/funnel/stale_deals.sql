-- Stale deals: open at the as-of date with no stage change in the last $stale_days days.
--
-- grain: one row per stale deal, largest amount first (ties: longest without change,
--   then deal_id).
-- params: $as_of (date); $stale_days (integer); $pipeline (varchar): only the deals of this
--   pipeline ('' = without one), null = every deal.
-- definitions: the last change is the latest history row up to the as-of date, or
--   created_at for a deal with none; stale when as-of - last change >= $stale_days days.
--   Deals without created_at and without history cannot be dated and are left out.

with

history as (select * from deal_stage_history),

params as (
    select
        $as_of::date as as_of_date,
        $as_of::date + interval 1 day as cutoff_at,
        $stale_days::integer as stale_days,
        $pipeline::varchar as pipeline_name,
),

open_deals as (
    select deals.*
    from deals_as_of($as_of) as deals
    cross join params
    where deals.status_as_of = 'open'
        and (params.pipeline_name is null or coalesce(deals.pipeline, '') = params.pipeline_name)
),

last_change as (
    select
        history.deal_id,
        max(history.entered_at) as last_entered_at,
        arg_max(history.stage, history.entered_at) as stage_as_of,
    from history
    inner join open_deals on history.deal_id = open_deals.deal_id
    cross join params
    where history.entered_at < params.cutoff_at
    group by history.deal_id
),

final as (
    select
        open_deals.deal_id,
        open_deals.customer_id,
        open_deals.owner_rep_id,
        coalesce(last_change.stage_as_of, open_deals.stage) as stage,
        open_deals.amount,
        coalesce(last_change.last_entered_at, open_deals.created_at)::date as last_change_date,
        date_diff('day', coalesce(last_change.last_entered_at, open_deals.created_at)::date, params.as_of_date)
            as days_since_change,
    from open_deals
    cross join params
    left join last_change on open_deals.deal_id = last_change.deal_id
)

select final.*
from final
cross join params
where final.days_since_change >= params.stale_days
order by final.amount desc nulls last, final.days_since_change desc, final.deal_id asc
