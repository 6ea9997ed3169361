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
--     each stage s below won they reached (deal_stages_reached as of $history_end),
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

with

deals as (select * from deals),

reps as (select * from reps),

customers as (select * from customers),

params as (
    select
        $as_of::date as as_of_date,
        $history_start::date as history_start,
        $history_end::date as history_end,
        len($stages::varchar []) as won_rank,
        $per_pipeline::boolean as per_pipeline,
        greatest(date_diff('day', $as_of::date, $period_end::date), 0) as days_left,
        greatest(date_diff('day', $as_of::date, $period_start::date) - 1, 0) as gap_days,
),

open_deals as (
    select
        reached.deal_id,
        reached.stage,
        reached.stage_rank,
        reached.entered_date,
        date_diff('day', reached.entered_date, params.as_of_date) as days_in_stage,
    from deal_stages_reached($as_of, $stages) as reached
    cross join params
    inner join deals_as_of($as_of) as state on reached.deal_id = state.deal_id
    where state.status_as_of = 'open' and reached.stage_rank = reached.furthest_rank
),

model_deals as (
    select
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

model_counts as (
    select model_pipeline, stage_rank, outcome, days_to_close, count(*) as count_deals,
    from model_deals
    group by all
),

won_in_history as (
    select
        coalesce(deals.pipeline, '') as pipeline,
        deals.amount::double as amount,
    from deals
    cross join params
    where deals.outcome = 'won'
        and deals.amount > 0
        and deals.closed_at::date between params.history_start and params.history_end
),

won_amounts as (
    select pipeline, avg(amount) as mean_won_amount, from won_in_history group by pipeline
),

every_pipeline as (
    select avg(amount) as mean_won_amount, from won_in_history
),

open_with_keys as (
    select
        open_deals.*,
        deals.customer_id,
        customers.name as customer_name,
        deals.owner_rep_id,
        reps.team,
        coalesce(deals.pipeline, '') as pipeline,
        case when params.per_pipeline then coalesce(deals.pipeline, '') else '' end as model_pipeline,
        deals.amount::double as amount,
    from open_deals
    cross join params
    inner join deals on open_deals.deal_id = deals.deal_id
    left join reps on deals.owner_rep_id = reps.rep_id
    left join customers on deals.customer_id = customers.customer_id
),

estimates as (
    select
        open_with_keys.deal_id,
        coalesce(sum(model_counts.count_deals) filter (
            where model_counts.days_to_close > open_with_keys.days_in_stage
        ), 0) as count_comparable,
        coalesce(sum(model_counts.count_deals) filter (
            where model_counts.outcome = 'won'
            and model_counts.days_to_close > open_with_keys.days_in_stage + params.gap_days
            and model_counts.days_to_close <= open_with_keys.days_in_stage + params.days_left
        ), 0) as count_won_in_period,
    from open_with_keys
    cross join params
    left join model_counts
        on open_with_keys.model_pipeline = model_counts.model_pipeline
            and open_with_keys.stage_rank = model_counts.stage_rank
    group by open_with_keys.deal_id
),

final as (
    select
        open_with_keys.deal_id,
        open_with_keys.customer_id,
        open_with_keys.customer_name,
        open_with_keys.owner_rep_id,
        open_with_keys.team,
        open_with_keys.pipeline,
        open_with_keys.stage,
        open_with_keys.stage_rank,
        open_with_keys.entered_date,
        open_with_keys.days_in_stage,
        open_with_keys.amount,
        estimates.count_comparable,
        estimates.count_won_in_period,
        estimates.count_comparable > 0 as has_basis,
        coalesce(open_with_keys.amount <= 0, true) as is_amount_imputed,
        coalesce(estimates.count_won_in_period / nullif(estimates.count_comparable, 0), 0)::double as probability,
        case
            when open_with_keys.amount > 0 then open_with_keys.amount
            else coalesce(own_pipeline.mean_won_amount, every_pipeline.mean_won_amount)
        end as amount_used,
    from open_with_keys
    inner join estimates on open_with_keys.deal_id = estimates.deal_id
    cross join every_pipeline
    left join won_amounts as own_pipeline on open_with_keys.pipeline = own_pipeline.pipeline
)

select
    *,
    probability * amount_used as expected_amount,
from final
order by deal_id
