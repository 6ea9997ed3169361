-- Shared customer definitions (temporary, per connection): value and ABC tier as of a date.

-- The customers known at the end of as_of_date: created_at on or before it or, when created_at
-- is unknown, an order, a deal (its created_at, else its closed_at) or an activity (its own
-- customer_id, else its deal's customer) on or before it.
-- grain: one row per customer of the customers table known at the as-of date.
--   known_since_date  created_at's date, else the earliest of those dates (on or before as_of_date)
create or replace temp macro customer_universe(as_of_date) as table
    with
    sightings as (
        select customer_id, order_date as seen_date, from orders
        union all
        select customer_id, coalesce(created_at, closed_at)::date as seen_date, from deals
        union all
        select
            coalesce(activities.customer_id, activity_deals.customer_id) as customer_id,
            activities.occurred_at::date as seen_date,
        from activities
        left join deals as activity_deals on activities.deal_id = activity_deals.deal_id
    ),

    first_sightings as (
        select customer_id, min(seen_date) as first_seen_date,
        from sightings
        where seen_date <= as_of_date::date
        group by customer_id
    )

    select
        customers.customer_id,
        coalesce(customers.created_at::date, first_sightings.first_seen_date) as known_since_date,
    from customers
    left join first_sightings on customers.customer_id = first_sightings.customer_id
    where customers.created_at::date <= as_of_date::date
        or (customers.created_at is null and first_sightings.first_seen_date is not null);

-- A customer's value: net order amount over the window_months months ending on the as-of
-- date (from as-of - window + 1 day), or, when the warehouse holds no orders at all, the
-- amount of won deals closed in that window; below zero counts as zero.
-- grain: one row per customer of customer_universe(as_of_date).
create or replace temp macro customer_values(as_of_date, window_months) as table
    with
    bounds as (
        select
            (as_of_date::date - to_months(window_months::integer) + interval 1 day)::date as window_start,
            as_of_date::date as window_end,
            (select count(*) from orders) > 0 as has_orders,
    ),

    universe as (select customer_id, from customer_universe(as_of_date)),

    order_values as (
        select orders.customer_id, sum(orders.amount) as net_amount,
        from orders
        cross join bounds
        where orders.order_date between bounds.window_start and bounds.window_end
        group by orders.customer_id
    ),

    deal_values as (
        select deals.customer_id, sum(deals.amount) as net_amount,
        from deals
        cross join bounds
        where deals.outcome = 'won'
            and deals.closed_at::date between bounds.window_start and bounds.window_end
        group by deals.customer_id
    )

    select
        universe.customer_id,
        greatest(
            coalesce(case when bounds.has_orders then order_values.net_amount else deal_values.net_amount end, 0),
            0
        )::decimal(18, 2) as value,
    from universe
    cross join bounds
    left join order_values on universe.customer_id = order_values.customer_id
    left join deal_values on universe.customer_id = deal_values.customer_id;

-- ABC (Pareto) tiers: customers by value descending, ties by customer_id ascending;
-- A = the shortest prefix whose cumulative value reaches >= a_share of the total, B = the
-- next customers up to the shortest prefix reaching >= b_share, C = everyone else (zero
-- value included). With a total of zero everyone is C.
-- grain: one row per customer of the universe above.
create or replace temp macro customer_tiers(as_of_date, a_share, b_share, window_months) as table
    with
    ranked as (
        select
            customer_id,
            value,
            row_number() over (order by value desc, customer_id asc) as value_rank,
            coalesce(
                sum(value) over (order by value desc, customer_id asc rows between unbounded preceding and 1 preceding),
                0
            ) as cumulative_before,
            sum(value) over () as total_value,
        from customer_values(as_of_date, window_months)
    )

    select
        customer_id,
        value,
        value_rank,
        cumulative_before,
        total_value,
        case
            when total_value > 0 and cumulative_before < a_share::decimal(9, 6) * total_value then 'A'
            when total_value > 0 and cumulative_before < b_share::decimal(9, 6) * total_value then 'B'
            else 'C'
        end as tier,
    from ranked;
