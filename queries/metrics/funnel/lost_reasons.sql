-- Why deals were lost: reasons ranked by count among the deals lost in a period.
--
-- grain: one row per lost_reason (null when the CRM gave none), most frequent first;
--   ties by reason text.
-- params: $period_start, $period_end (date); $as_of (date): lost by the end of this day;
--   $pipeline (varchar): only the deals of this pipeline ('' = without one), null = every deal.
-- invariant: abs(sum(share_of_lost) over () - 1) < 1e-9
-- invariant (not checked): sum(count_lost_deals) = the deals lost in the period.

with

deals as (select * from deals),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date + interval 1 day as cutoff_at,
        $pipeline::varchar as pipeline_name,
),

lost_in_period as (
    select nullif(trim(deals.lost_reason), '') as lost_reason,
    from deals
    cross join params
    where deals.outcome = 'lost'
        and deals.closed_at::date between params.period_start and params.period_end
        and deals.closed_at < params.cutoff_at
        and (params.pipeline_name is null or coalesce(deals.pipeline, '') = params.pipeline_name)
),

final as (
    select
        lost_reason,
        count(*) as count_lost_deals,
        count(*) / sum(count(*)) over () as share_of_lost,
        rank() over (order by count(*) desc) as reason_rank,
    from lost_in_period
    group by lost_reason
)

select * from final
order by reason_rank, lost_reason nulls last
