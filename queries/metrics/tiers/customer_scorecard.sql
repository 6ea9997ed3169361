-- Scorecard tier of every customer known at the as-of date, with its score and measures.
--
-- grain: one row per customer of the universe, by score descending, then customer_id.
-- params: $as_of (date); $value_window_months (integer); $dimensions (JSON text, see
--   customer_score_points in queries/macros/tiers.sql); $cutoff_a, $cutoff_b (scores 0-100).
-- invariants: 0 <= score <= 100 when all points are in 0-100; tier A iff score >= $cutoff_a.

with

scorecard as (select * from customer_scorecard($as_of, $value_window_months, $dimensions, $cutoff_a, $cutoff_b)),

final as (
    select customer_id, value, count_purchases, recency_days, score, tier,
    from scorecard
)

select * from final
order by score desc, customer_id asc
