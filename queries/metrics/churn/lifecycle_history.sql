-- How many customers are in each lifecycle state at each of several dates (the report's
-- lifecycle composition over the last periods), in one pass over the purchase days.
-- The states are those of lifecycle_states (queries/macros/purchases.sql), at each date.
--
-- grain: one row per date (in the order given) per state (new, reactivated, active, dormant,
--   churned, zeros included).
-- params: $as_of_dates (date[]): the dates; $window_starts (date[]): for each date its
--   period's first day (reactivations); $new_days, $active_days, $churn_days (integers).
-- columns: date_index (1.. in the order of $as_of_dates), as_of_date, lifecycle_state,
--   state_rank, count_customers.
-- invariant (not checked: the report runs this query, not the metrics commands): five rows per date
--   in the order of $as_of_dates; each date's counts are those of lifecycle_states.sql at it

with

purchase_days as (select * from purchase_days),

state_list as (select * from lifecycle_state_list),

dates as (
    select
        unnest($as_of_dates::DATE []) as as_of_date,
        unnest($window_starts::DATE []) as window_start,
        generate_subscripts($as_of_dates::DATE [], 1) as date_index,
),

per_customer as (
    select
        dates.date_index,
        purchase_days.customer_id,
        date_diff('day', max(purchase_days.purchase_date), any_value(dates.as_of_date)) as recency_days,
        date_diff('day', min(purchase_days.purchase_date), any_value(dates.as_of_date)) as age_days,
        coalesce(
            bool_or(
                purchase_days.purchase_date >= dates.window_start and purchase_days.gap_days > $churn_days::INTEGER
            ),
            false
        ) as has_reactivation,
    from purchase_days
    inner join dates on purchase_days.purchase_date <= dates.as_of_date
    group by dates.date_index, purchase_days.customer_id
),

states as (
    select
        date_index,
        lifecycle_state(age_days, has_reactivation, recency_days, $new_days, $active_days, $churn_days)
            as lifecycle_state,
    from per_customer
),

counts as (
    select date_index, lifecycle_state, count(*) as count_customers,
    from states
    group by date_index, lifecycle_state
),

final as (
    select
        dates.date_index,
        dates.as_of_date,
        state_list.lifecycle_state,
        state_list.state_rank,
        coalesce(counts.count_customers, 0) as count_customers,
    from dates
    cross join state_list
    left join counts
        on dates.date_index = counts.date_index and state_list.lifecycle_state = counts.lifecycle_state
)

select * from final
order by date_index, state_rank
