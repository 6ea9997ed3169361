-- What deals not yet created at the as-of date should still win within the period, per group:
-- the deals won in the history window, each counted once for every day it could have been
-- created after the as-of date and still have been won within the period.
--
-- grain: one row per group (values of $by among those won deals, '' when a deal has none);
--   with $by = 'all' exactly one row, 'all'.
-- params: $as_of, $period_start, $period_end (date); $history_start, $history_end (date);
--   $by: all | rep | team.
-- definitions: days_left = $period_end - $as_of, gap_days = days from $as_of to the day
--   before $period_start (0 once it started). A deal created t days after the as-of date
--   (t = 1, 2, ...) and won cycle_days after its creation counts when t + cycle_days lies in
--   (gap_days, days_left]: for count_days = days_left - cycle_days - greatest(1, gap_days +
--   1 - cycle_days) + 1 values of t (0 when negative). Model deals: won, created in the
--   window's first days_in_window = history days - days_left days (so that a deal taking up
--   to days_left days was seen closing), with cycle_days <= days_left.
--   expected_amount = sum of amount * count_days / days_in_window (null without such days).
-- invariant: expected_amount is null or expected_amount >= 0
-- invariant: count_model_deals >= 0
-- (the query is forecast_new_deals, queries/macros/forecast.sql, which the back-test shares)


with

final as (
    select group_key, count_model_deals, expected_amount,
    from forecast_new_deals(
        [$as_of], [$period_start], [$period_end], [$history_start], [$history_end], $by
    )
)

select * from final
order by group_key
