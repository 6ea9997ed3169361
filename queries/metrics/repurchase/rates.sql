-- Repurchase in a period, per group (DESIGN.md "Repurchase"; purchases = orders with amount > 0).
--
-- grain: one row per group. Groups are the values of the $by dimension among the customers
--   with an order in the period or a purchase gap up to the as-of date ('' when a customer
--   has none); with $by = 'all' there is one group, 'all', present even when nothing was bought.
-- params: $period_start, $period_end (date): the period; $as_of (date): nothing after the end
--   of this day is seen; $by: all | rep | team | channel | tier | region; $tier_a_share, $tier_b_share,
--   $value_window_months: the ABC tier settings (used by $by = 'tier', tiers as of $as_of);
--   $only_group (varchar): only this group of $by, null = every group.
-- columns:
--   count_customers_purchasing  customers with >= 1 purchase in the period
--   count_repeat_customers      ... with >= 2 purchases in it
--   count_returning_customers   ... with a purchase in it and one before its first day
--   net_amount                  net order amount of the period (returns included)
--   returning_net_amount        the returning customers' part of net_amount
--   repeat_rate, returning_rate (fractions; null without purchasing customers)
--   returning_revenue_share     returning_net_amount / net_amount (null when net_amount <= 0)
--   median_gap_days             median over all pairs of consecutive purchase days of the
--                               group's customers up to $as_of (the later day on or before
--                               it; several orders on one day are one purchase day, so a
--                               gap is never 0: purchase_days, queries/macros/purchases.sql)
--   count_purchase_gaps         how many pairs that median is taken over
-- invariant: count_repeat_customers <= count_customers_purchasing
-- invariant: count_returning_customers <= count_customers_purchasing
-- invariant: median_gap_days is null or median_gap_days >= 1

with

orders as (select * from orders),

purchase_history as (select * from purchase_history),

purchase_days as (select * from purchase_days),

params as (
    select
        $period_start::date as period_start,
        least($period_end::date, $as_of::date) as window_end,
        $as_of::date as as_of_date,
        $by::varchar as group_by,
),

-- the customers of $only_group alone when given
buyer_groups as (
    select *
    from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)
    where $only_group::varchar is null or group_key = $only_group::varchar
),

period_orders as (
    select orders.customer_id, orders.amount, orders.amount > 0 as is_purchase,
    from orders
    cross join params
    where orders.order_date between params.period_start and params.window_end
),

period_customers as (
    select
        customer_id,
        count(*) filter (where is_purchase) as count_purchases,
        sum(amount) as net_amount,
    from period_orders
    group by customer_id
),

earlier_buyers as (
    select distinct purchase_history.customer_id,
    from purchase_history
    cross join params
    where purchase_history.order_date < params.period_start
),

customer_facts as (
    select
        buyer_groups.group_key,
        period_customers.customer_id,
        period_customers.count_purchases,
        period_customers.net_amount,
        period_customers.count_purchases >= 1 and earlier_buyers.customer_id is not null as is_returning,
    from period_customers
    inner join buyer_groups on period_customers.customer_id = buyer_groups.customer_id
    left join earlier_buyers on period_customers.customer_id = earlier_buyers.customer_id
),

gaps as (
    select buyer_groups.group_key, purchase_days.gap_days,
    from purchase_days
    cross join params
    inner join buyer_groups on purchase_days.customer_id = buyer_groups.customer_id
    where purchase_days.purchase_date <= params.as_of_date
        and purchase_days.gap_days is not null
),

groups as (
    select group_key from customer_facts
    union
    select group_key from gaps
    union
    select 'all' from params where group_by = 'all'
),

group_counts as (
    select
        groups.group_key,
        count(customer_facts.customer_id) filter (where customer_facts.count_purchases >= 1)
            as count_customers_purchasing,
        count(customer_facts.customer_id) filter (where customer_facts.count_purchases >= 2)
            as count_repeat_customers,
        count(customer_facts.customer_id) filter (where customer_facts.is_returning)
            as count_returning_customers,
        coalesce(sum(customer_facts.net_amount), 0) as net_amount,
        coalesce(sum(customer_facts.net_amount) filter (where customer_facts.is_returning), 0)
            as returning_net_amount,
    from groups
    left join customer_facts on groups.group_key = customer_facts.group_key
    group by groups.group_key
),

group_gaps as (
    select
        group_key,
        quantile_cont(gap_days, 0.5) as median_gap_days,
        count(*) as count_purchase_gaps,
    from gaps
    group by group_key
),

final as (
    select
        group_counts.group_key,
        group_counts.count_customers_purchasing,
        group_counts.count_repeat_customers,
        group_counts.count_returning_customers,
        group_counts.net_amount,
        group_counts.returning_net_amount,
        group_counts.count_repeat_customers / nullif(group_counts.count_customers_purchasing, 0)
            as repeat_rate,
        group_counts.count_returning_customers / nullif(group_counts.count_customers_purchasing, 0)
            as returning_rate,
        case when group_counts.net_amount > 0
                then group_counts.returning_net_amount::double / group_counts.net_amount::double
        end as returning_revenue_share,
        group_gaps.median_gap_days,
        coalesce(group_gaps.count_purchase_gaps, 0) as count_purchase_gaps,
    from group_counts
    left join group_gaps on group_counts.group_key = group_gaps.group_key
)

select * from final
order by group_key
