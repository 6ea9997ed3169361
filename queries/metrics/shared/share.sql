-- List a filled shared state in the connection's variable shared_state (name|key, see
-- queries/macros/customers.sql): from now on its macro or view reads the filled rows.
-- params: $state_name: customer_universe | customer_values | customer_tiers | lifecycle_states |
--   customer_followup | purchase_days | customer_activities; the arguments of its key (null
--   where unused): $as_of, $window_start (dates), $value_window_months, $tier_a_share,
--   $tier_b_share, $new_days, $active_days, $churn_days, $cadence_a, $cadence_b, $cadence_c,
--   $pool_days.
set variable shared_state = list_distinct(  -- noqa: PRS
    list_append(
        coalesce(getvariable('shared_state'), []::varchar []),
        $state_name::varchar || '|' || case $state_name::varchar
            when 'customer_universe' then customer_universe_key($as_of)
            when 'customer_values' then customer_values_key($as_of, $value_window_months)
            when 'customer_tiers' then customer_tiers_key($as_of, $tier_a_share, $tier_b_share, $value_window_months)
            when 'lifecycle_states'
                then lifecycle_states_key($as_of, $window_start, $new_days, $active_days, $churn_days)
            when 'customer_followup'
                then customer_followup_key(
                    $as_of,
                    $tier_a_share,
                    $tier_b_share,
                    $value_window_months,
                    $cadence_a,
                    $cadence_b,
                    $cadence_c,
                    $pool_days
                )
            else ''
        end
    )
)
