-- The stages each pipeline's funnel shows: the configured stages its data can reach.
--
-- grain: one row per pipeline ('' for the deals without one: the default pipeline) per
--   configured stage, in funnel order; no rows when the warehouse holds no deals.
-- params: $stages (varchar[]): the configured funnel in order, the last one is the won stage.
-- definitions: count_deals = the pipeline's deals whose current stage is the stage or that
--   have a history row for it; in_funnel = the funnel shows the stage: some deal uses it,
--   or it is the won stage (always shown).
-- invariant: in_funnel = (count_deals > 0 or stage_rank = len($stages::varchar[]))
-- invariant: stage_rank = list_position($stages::varchar[], stage)

with

history as (select * from deal_stage_history),

params as (
    select $stages::varchar [] as stages,
),

stage_list as (
    select
        unnest(stages) as stage,
        generate_subscripts(stages, 1) as stage_rank,
    from params
),

pipelines as (
    select distinct coalesce(deals.pipeline, '') as pipeline from deals
),

-- a deal uses its current stage and the stages of its history rows (a pair may repeat)
stage_uses as (
    select
        deal_id,
        stage,
    from deals
    union all
    select
        deal_id,
        stage,
    from history
),

-- each (deal, stage) pair once, then counted per pipeline (cheaper than a distinct count per
-- group)
deal_stages as (
    select distinct
        deal_id,
        stage,
    from stage_uses
),

stage_counts as (
    select
        coalesce(deals.pipeline, '') as pipeline,
        deal_stages.stage,
        count(*) as count_deals,
    from deal_stages
    inner join deals on deal_stages.deal_id = deals.deal_id
    group by all
),

final as (
    select
        pipelines.pipeline,
        stage_list.stage,
        stage_list.stage_rank,
        coalesce(stage_counts.count_deals, 0) as count_deals,
        coalesce(stage_counts.count_deals, 0) > 0 or stage_list.stage_rank = len(params.stages) as in_funnel,
    from pipelines
    cross join stage_list
    cross join params
    left join stage_counts
        on pipelines.pipeline = stage_counts.pipeline and stage_list.stage = stage_counts.stage
)

select * from final
order by pipeline, stage_rank
