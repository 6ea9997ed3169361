-- The distinct purchase histories the BG/NBD model is fitted on, with how many customers have
-- each: the model's likelihood depends on a customer only through (frequency, recency, age),
-- so the fit runs over these rows weighted by count_customers, not over the customers.
-- Per customer: the customer_rfm macro (queries/macros/purchases.sql), listed by
-- customer_rfm.sql.
--
-- grain: one row per distinct (frequency, recency_days, age_days, holdout_purchases) among
--   the customers with a purchase on or before $calibration_end.
-- params: $calibration_end (date); $holdout_end (date, >= $calibration_end; equal for no
--   holdout).
-- columns: frequency, recency_days, age_days, holdout_purchases (as in customer_rfm.sql),
--   count_customers (customers with this history).
-- invariant: recency_days between 0 and age_days
-- invariant: frequency > 0 or recency_days = 0
-- invariant: count_customers >= 1

with

histories as (select * from customer_rfm($calibration_end, $holdout_end)),

final as (
    select
        frequency,
        recency_days,
        age_days,
        holdout_purchases,
        count(*) as count_customers,
    from histories
    group by frequency, recency_days, age_days, holdout_purchases
)

select * from final
order by frequency, recency_days, age_days, holdout_purchases
