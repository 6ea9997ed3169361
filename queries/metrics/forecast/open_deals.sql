-- The deals open at the as-of date and each one's probability of closing won in the period.
--
-- grain: one row per deal open at the end of $as_of (created by then; deals without
--   created_at are not known to have existed), by deal_id.
-- params: $as_of, $period_start, $period_end (date): the forecast point and the period;
--   $history_start, $history_end (date): the window whose closed deals make the model;
--   $stages (varchar[]): the funnel in order, won last; $per_pipeline (boolean): model each
--   pipeline apart (their stage lists differ), else all deals together.
-- definitions:
--   model deals: deals closed won or lost with closed_at's date in the history window; for
--     each stage s below won they reached (forecast_model_deals: deal_stages_reached as of $history_end),
--     days_to_close = closed date - the day they entered s.
--   An open deal is in its furthest stage s since entered_date, days_in_stage = $as_of -
--     entered_date. days_left = $period_end - $as_of (0 once the period is over); gap_days =
--     days from $as_of to the day before $period_start (0 once the period has started).
--   count_comparable = model deals of its model pipeline that reached s and closed more than
--     days_in_stage days after entering it (still open after as many days as this deal);
--   count_won_in_period = those of them won, days_to_close in
--     (days_in_stage + gap_days, days_in_stage + days_left];
--   probability = count_won_in_period / count_comparable, 0 without a comparable deal
--     (has_basis false: no deal this long in the stage closed in the window).
--   amount_used = amount when above 0, else the mean amount above 0 of the deals of its
--     pipeline won in the history window (of all pipelines when its own has none);
--     is_amount_imputed tells which. expected_amount = probability * amount_used.
-- invariant: probability >= 0 and probability <= 1
-- invariant: count_won_in_period <= count_comparable
-- invariant: has_basis = (count_comparable > 0)
-- invariant: is_amount_imputed = (amount is null or amount <= 0)
-- (the estimate is forecast_open_deals, queries/macros/forecast.sql, which the back-test shares;
--  this query adds each deal's customer, owner rep and team)


with

deals as (select * from deals),

reps as (select * from reps),

customers as (select * from customers),

estimates as (
    select *
    from forecast_open_deals(
        [$as_of], [$period_start], [$period_end], [$history_start], [$history_end],
        $stages, $per_pipeline
    )
),

final as (
    select
        estimates.deal_id,
        deals.customer_id,
        customers.name as customer_name,
        deals.owner_rep_id,
        reps.team,
        estimates.pipeline,
        estimates.stage,
        estimates.stage_rank,
        estimates.entered_date,
        estimates.days_in_stage,
        estimates.amount,
        estimates.count_comparable,
        estimates.count_won_in_period,
        estimates.has_basis,
        estimates.is_amount_imputed,
        estimates.probability,
        estimates.amount_used,
        estimates.probability * estimates.amount_used as expected_amount,
    from estimates
    inner join deals on estimates.deal_id = deals.deal_id
    left join reps on deals.owner_rep_id = reps.rep_id
    left join customers on deals.customer_id = customers.customer_id
)

select * from final
order by deal_id
