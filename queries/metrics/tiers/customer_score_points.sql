-- Scorecard points of every customer on every dimension.
--
-- grain: one row per customer of the universe and dimension, by customer_id, dimension_no.
-- params: $as_of (date); $value_window_months (integer); $dimensions (JSON text, see
--   customer_score_points in queries/macros/tiers.sql).

with

points as (select * from customer_score_points($as_of, $value_window_months, $dimensions)),

final as (
    select customer_id, dimension_no, dimension, measure_value, field_value, points,
    from points
)

select * from final
order by customer_id, dimension_no
