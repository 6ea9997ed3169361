-- Scorecard tier of every customer known at the as-of date, with its score and measures.
--
-- grain: one row per customer of the universe, by score descending, then customer_id.
-- params: $as_of (date); $value_window_months (integer); $dimensions (JSON text, see
--   customer_score_points in queries/macros/tiers.sql); $cutoff_a, $cutoff_b (scores 0-100).
-- invariant: score between 0 and 100
-- invariant: (tier = 'A') = (score >= $cutoff_a)
-- (score stays in 0-100 when every dimension's points do, as in the default dimensions.)

with

scorecard as (select * from customer_scorecard($as_of, $value_window_months, $dimensions, $cutoff_a, $cutoff_b)),

final as (
    select customer_id, value, count_purchases, recency_days, score, tier,
    from scorecard
)

select * from final
order by score desc, customer_id asc
