-- The forecast's model: per stage, how the deals closed in the history window ended and how
-- long they took from entering the stage.
--
-- grain: one row per model pipeline ('' = all pipelines together, or the deals without one)
--   per funnel stage below won that some model deal reached, in funnel order.
-- params: $history_start, $history_end (date): the window; $stages (varchar[]): the funnel
--   in order, won last; $per_pipeline (boolean): model each pipeline apart.
-- definitions: model deals as in open_deals.sql (closed won or lost in the window, the
--   stages they reached as of $history_end); conversion = count_won / count_reached;
--   median_days_to_close / p80_days_to_close over the won, from entering the stage.
-- invariant: count_won <= count_reached
-- invariant: conversion = count_won / count_reached

with

deals as (select * from deals),

params as (
    select
        $history_start::date as history_start,
        $history_end::date as history_end,
        len($stages::varchar []) as won_rank,
        $per_pipeline::boolean as per_pipeline,
),

model_deals as (
    select
        reached.stage,
        reached.stage_rank,
        deals.outcome,
        case when params.per_pipeline then coalesce(deals.pipeline, '') else '' end as model_pipeline,
        date_diff('day', reached.entered_date, deals.closed_at::date) as days_to_close,
    from deal_stages_reached($history_end, $stages) as reached
    cross join params
    inner join deals on reached.deal_id = deals.deal_id
    where deals.outcome in ('won', 'lost')
        and deals.closed_at::date between params.history_start and params.history_end
        and reached.stage_rank < params.won_rank
),

final as (
    select
        model_pipeline,
        stage,
        stage_rank,
        count(*) as count_reached,
        count(*) filter (where outcome = 'won') as count_won,
        (count(*) filter (where outcome = 'won') / count(*))::double as conversion,
        quantile_cont(days_to_close, 0.5) filter (where outcome = 'won') as median_days_to_close,
        quantile_cont(days_to_close, 0.8) filter (where outcome = 'won') as p80_days_to_close,
    from model_deals
    group by model_pipeline, stage, stage_rank
)

select * from final
order by model_pipeline, stage_rank
