-- Monthly cohort retention, as customers and as revenue (DESIGN.md "Repurchase", cohort
-- retention; purchases = orders with amount > 0).
--
-- A customer's cohort is the calendar month of their first purchase. Cell (cohort, k): the
-- cohort's customers with a purchase in the k-th calendar month after it (k = 0 is the
-- cohort month itself, so its share is 1), and their net order amount in that month
-- (returns included). Nothing after the end of $as_of is seen; the month of $as_of is
-- included, partly observed when $as_of is not a month's last day.
-- grain: one row per group, cohort and month_index k, for the cohorts whose month lies
--   between $first_cohort_month and the month of $as_of, and every k from 0 to the month of
--   $as_of (cells with nobody buying are present with zeros).
-- params: $as_of (date); $first_cohort_month (date, any day of the first cohort's month);
--   $by: all | rep | team | channel | tier | region; $tier_a_share, $tier_b_share, $value_window_months: the
--   ABC tier settings (tiers as of $as_of).
-- columns:
--   cohort_month (date, the month's first day), month_index (k), count_cohort_customers,
--   count_active_customers, share_active = count_active / count_cohort,
--   cohort_net_amount (the cohort's net amount in month 0), net_amount (in month k),
--   share_of_first_month_revenue = net_amount / cohort_net_amount (null when that is <= 0),
--   is_data_start: the cohort month is the first month with any order in the warehouse, so
--   it also holds the customers who bought before the data begin.
-- invariant: month_index > 0 or (share_active = 1 and count_active_customers = count_cohort_customers)
-- invariant: count_active_customers <= count_cohort_customers

with

orders as (select * from orders),

purchase_history as (select * from purchase_history),

params as (
    select
        $as_of::date as as_of_date,
        date_trunc('month', $as_of::date)::date as as_of_month,
        date_trunc('month', $first_cohort_month::date)::date as first_cohort_month,
        (select date_trunc('month', min(order_date))::date from orders) as data_start_month,
),

buyer_groups as (select * from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)),

first_purchases as (
    select
        purchase_history.customer_id,
        date_trunc('month', min(purchase_history.order_date))::date as cohort_month,
    from purchase_history
    cross join params
    where purchase_history.order_date <= params.as_of_date
    group by purchase_history.customer_id
),

cohort_members as (
    select first_purchases.customer_id, first_purchases.cohort_month, buyer_groups.group_key,
    from first_purchases
    cross join params
    inner join buyer_groups on first_purchases.customer_id = buyer_groups.customer_id
    where first_purchases.cohort_month between params.first_cohort_month and params.as_of_month
),

cohorts as (
    select group_key, cohort_month, count(*) as count_cohort_customers,
    from cohort_members
    group by group_key, cohort_month
),

cells as (
    select
        cohorts.group_key,
        cohorts.cohort_month,
        cohorts.count_cohort_customers,
        months.month_index,
    from cohorts
    cross join params
    cross join range(0, date_diff('month', cohorts.cohort_month, params.as_of_month) + 1) as months (month_index)
),

-- every order of a cohort member up to the as-of date, placed in its month after the cohort
member_orders as (
    select
        cohort_members.group_key,
        cohort_members.cohort_month,
        cohort_members.customer_id,
        date_diff('month', cohort_members.cohort_month, date_trunc('month', orders.order_date)::date)
            as month_index,
        orders.amount,
    from orders
    cross join params
    inner join cohort_members on orders.customer_id = cohort_members.customer_id
    where orders.order_date <= params.as_of_date
),

cell_values as (
    select
        group_key,
        cohort_month,
        month_index,
        count(distinct customer_id) filter (where amount > 0) as count_active_customers,
        sum(amount) as net_amount,
    from member_orders
    where month_index >= 0
    group by group_key, cohort_month, month_index
),

filled as (
    select
        cells.group_key,
        cells.cohort_month,
        cells.month_index,
        cells.count_cohort_customers,
        coalesce(cell_values.count_active_customers, 0) as count_active_customers,
        coalesce(cell_values.net_amount, 0) as net_amount,
    from cells
    left join cell_values
        on cells.group_key = cell_values.group_key
            and cells.cohort_month = cell_values.cohort_month
            and cells.month_index = cell_values.month_index
),

final as (
    select
        filled.group_key,
        filled.cohort_month,
        filled.month_index,
        filled.count_cohort_customers,
        filled.count_active_customers,
        filled.count_active_customers / filled.count_cohort_customers as share_active,
        first_month.net_amount as cohort_net_amount,
        filled.net_amount,
        case when first_month.net_amount > 0
                then filled.net_amount::double / first_month.net_amount::double
        end as share_of_first_month_revenue,
        filled.cohort_month = params.data_start_month as is_data_start,
    from filled
    cross join params
    inner join filled as first_month
        on filled.group_key = first_month.group_key
            and filled.cohort_month = first_month.cohort_month
            and first_month.month_index = 0
)

select * from final
order by group_key, cohort_month, month_index
