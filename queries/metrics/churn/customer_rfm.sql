-- Per-customer purchase history summary for the BG/NBD model (frequency, recency, age),
-- with the purchases of a holdout period after the calibration end: the customer_rfm macro
-- (queries/macros/purchases.sql), one row per customer. The model itself is fitted on the
-- distinct histories (rfm_histories.sql).
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

with

final as (select * from customer_rfm($calibration_end, $holdout_end))

select
    customer_id,
    frequency,
    recency_days,
    age_days,
    holdout_purchases,
from final
order by customer_id
