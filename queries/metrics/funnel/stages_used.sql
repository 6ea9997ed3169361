-- The stages each pipeline's funnel shows: the configured stages its data can reach.
--
-- grain: one row per pipeline ('' for the deals without one: the default pipeline) per
--   configured stage, in funnel order; no rows when the warehouse holds no deals.
-- params: $stages (varchar[]): the configured funnel in order, the last one is the won stage.
-- definitions: is_used = some deal of the pipeline is at the stage now or has a history row
--   for it; in_funnel = the funnel shows the stage: it is used, or it is the won stage (always
--   shown).
-- invariant: in_funnel = (is_used or stage_rank = len($stages::varchar[]))
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

-- the (pipeline, stage) pairs some deal uses: its current stage and its history rows' stages
-- (a presence per pair: a few groups, where counting the deals of each would first take every
-- distinct (deal, stage) pair)
stage_uses as (
    select
        coalesce(pipeline, '') as pipeline,
        stage,
    from deals
    union all
    select
        coalesce(deals.pipeline, '') as pipeline,
        history.stage,
    from history
    inner join deals on history.deal_id = deals.deal_id
),

used as (
    select distinct
        pipeline,
        stage,
    from stage_uses
),

final as (
    select
        pipelines.pipeline,
        stage_list.stage,
        stage_list.stage_rank,
        used.stage is not null as is_used,
        used.stage is not null or stage_list.stage_rank = len(params.stages) as in_funnel,
    from pipelines
    cross join stage_list
    cross join params
    left join used
        on pipelines.pipeline = used.pipeline and stage_list.stage = used.stage
)

select * from final
order by pipeline, stage_rank
