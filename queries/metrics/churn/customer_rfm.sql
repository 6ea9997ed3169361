-- Per-customer purchase history summary for the BG/NBD model (frequency, recency, age),
-- with the purchases of a holdout period after the calibration end.
--
-- Purchases are counted by distinct purchase day (several orders on one day are one
-- transaction), as in Fader, Hardie and Lee (2005).
-- grain: one row per customer with a purchase on or before $calibration_end, by customer_id.
-- params: $calibration_end (date); $holdout_end (date, >= $calibration_end; equal for no
--   holdout).
-- columns:
--   frequency         repeat purchase days up to $calibration_end (distinct days - 1)
--   recency_days      last purchase day - first purchase day
--   age_days          $calibration_end - first purchase day (T)
--   holdout_purchases distinct purchase days after $calibration_end up to $holdout_end
-- invariant: recency_days between 0 and age_days
-- invariant: frequency > 0 or recency_days = 0

with

purchase_history as (select * from purchase_history),

params as (
    select $calibration_end::date as calibration_end, $holdout_end::date as holdout_end,
),

purchase_days as (
    select distinct purchase_history.customer_id, purchase_history.order_date,
    from purchase_history
    cross join params
    where purchase_history.order_date <= params.holdout_end
),

calibration as (
    select
        purchase_days.customer_id,
        count(*) - 1 as frequency,
        date_diff('day', min(purchase_days.order_date), max(purchase_days.order_date)) as recency_days,
        date_diff('day', min(purchase_days.order_date), any_value(params.calibration_end)) as age_days,
    from purchase_days
    cross join params
    where purchase_days.order_date <= params.calibration_end
    group by purchase_days.customer_id
),

holdout as (
    select purchase_days.customer_id, count(*) as holdout_purchases,
    from purchase_days
    cross join params
    where purchase_days.order_date > params.calibration_end
    group by purchase_days.customer_id
),

final as (
    select
        calibration.customer_id,
        calibration.frequency,
        calibration.recency_days,
        calibration.age_days,
        coalesce(holdout.holdout_purchases, 0) as holdout_purchases,
    from calibration
    left join holdout on calibration.customer_id = holdout.customer_id
)

select * from final
order by customer_id
