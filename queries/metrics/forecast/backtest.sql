-- The back-test's forecasts: the forecast of past periods seen from points inside them (a
-- third and two thirds of each), every point in one pass, with what each period finally won.
--
-- grain: one row per point, by point_id (the position in the lists, from 1).
-- params: one per point, in the same order: $as_of_dates, $period_starts, $period_ends,
--   $history_starts, $history_ends (date[]): the forecast point, its period and the history
--   window of its model; $stages (varchar[]): the funnel in order,
--   won last; $per_pipeline (boolean): model each pipeline apart.
-- definitions, per point (those of the forecast seen from its as-of date):
--   won_to_date = amount of the deals won from the period's start to the as-of date (won.sql);
--   won_in_period = amount of the deals won in the whole period (what it finally won);
--   count_closed_deals = the model deals of its history window (stage_model.sql);
--   count_open_deals, probabilities, amounts_used = the deals open at the as-of date and their
--   probability and amount_used, by deal_id (open_deals.sql: forecast_open_deals in
--   queries/macros/forecast.sql; the expected amount and the simulated range are computed
--   from these lists, as for the forecast itself);
--   expected_from_new_deals = what deals not created yet should still win (new_deals.sql).
-- invariant: count_open_deals = len(probabilities)
-- invariant: won_to_date <= won_in_period or won_in_period < 0


with

points as (
    select *
    from forecast_points(
        $as_of_dates, $period_starts, $period_ends, $history_starts,
        $history_ends
    )
),

open_deals as (
    select point_id, deal_id, probability, amount_used,
    from forecast_open_deals(
        $as_of_dates, $period_starts, $period_ends, $history_starts,
        $history_ends, $stages, $per_pipeline
    )
),

pipeline as (
    select
        point_id,
        count(*) as count_open_deals,
        list(probability order by deal_id) as probabilities,
        list(amount_used order by deal_id) as amounts_used,
    from open_deals
    group by point_id
),

-- the model deals of each point's window (each reaches the first stage: counted without
-- their stages)
model as (
    select
        point_id,
        count(*) as count_closed_deals,
    from deals_at_points($history_ends, $history_starts)
    group by point_id
),

new_deals as (
    select
        point_id,
        expected_amount as expected_from_new_deals,
    from forecast_new_deals(
        $as_of_dates, $period_starts, $period_ends, $history_starts,
        $history_ends, 'all'
    )
),

won as (
    select
        points.point_id,
        coalesce(sum(won_deals.amount) filter (
            where won_deals.closed_date <= least(points.period_end, points.as_of_date)
        ), 0)::double as won_to_date,
        coalesce(sum(won_deals.amount), 0)::double as won_in_period,
    from points
    left join forecast_won_deals('all') as won_deals
        on won_deals.closed_date between points.period_start and points.period_end
    group by points.point_id
),

final as (
    select
        points.point_id,
        points.as_of_date,
        won.won_to_date,
        won.won_in_period,
        coalesce(model.count_closed_deals, 0) as count_closed_deals,
        coalesce(pipeline.count_open_deals, 0) as count_open_deals,
        coalesce(pipeline.probabilities, []) as probabilities,
        coalesce(pipeline.amounts_used, []) as amounts_used,
        new_deals.expected_from_new_deals,
    from points
    inner join won on points.point_id = won.point_id
    left join model on points.point_id = model.point_id
    left join pipeline on points.point_id = pipeline.point_id
    left join new_deals on points.point_id = new_deals.point_id
)

select * from final
order by point_id
