-- The forecast's model: per stage, how the deals closed in the history window ended and how
-- long they took from entering the stage.
--
-- grain: one row per model pipeline ('' = all pipelines together, or the deals without one)
--   per funnel stage below won that some model deal reached, in funnel order.
-- params: $history_start, $history_end (date): the window; $stages (varchar[]): the funnel
--   in order, won last; $per_pipeline (boolean): model each pipeline apart.
-- definitions: model deals as in open_deals.sql (forecast_model_deals, queries/macros/forecast.sql:
--   closed won or lost in the window, the stages they reached as of $history_end);
--   conversion = count_won / count_reached;
--   median_days_to_close / p80_days_to_close over the won, from entering the stage.
-- invariant: count_won <= count_reached
-- invariant: conversion = count_won / count_reached


with

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
    from forecast_model_deals([$history_start], [$history_end], $stages, $per_pipeline)
    group by model_pipeline, stage, stage_rank
)

select * from final
order by model_pipeline, stage_rank
