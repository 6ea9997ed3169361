-- Shared customer definitions (temporary, per connection): value and ABC tier as of a date.
--
-- Per-snapshot state. customer_universe, customer_values and customer_tiers are read by many
-- queries for the same date (a tier breakdown, the risk list, the follow-up cadence, the
-- tiers metric itself ...). On a connection that reads a published snapshot (nothing can
-- change under it), crmreview.metrics.shared fills the shared_* tables below once per date
-- and settings (queries/metrics/shared/) and lists what it filled (name|key) in the
-- connection's variable shared_state; the macros read the rows of a listed key and compute
-- from the tables (the compute_* macros) for any other. The variable is read when a query is
-- planned, so the branch not taken is left out of the plan. A scoped connection fills them
-- from its own scoped views, so they hold only its scope's rows. The key is the macro's
-- arguments as text (*_key macros).
create temp table if not exists shared_customer_universe (
    state_key varchar not null,
    customer_id varchar,
    known_since_date date
);

create temp table if not exists shared_customer_values (
    state_key varchar not null,
    customer_id varchar,
    value decimal(18, 2)
);

create temp table if not exists shared_customer_tiers (
    state_key varchar not null,
    customer_id varchar,
    value decimal(18, 2),
    value_rank bigint,
    cumulative_before decimal(38, 2),
    total_value decimal(38, 2),
    tier varchar
);

-- whether the connection's variable shared_state lists state_name|state_key (see above)
create or replace temp macro is_shared(state_name, state_key) as
list_contains(coalesce(getvariable('shared_state'), []::varchar []), state_name || '|' || state_key);

create or replace temp macro customer_universe_key(as_of_date) as
as_of_date::date::varchar;

create or replace temp macro customer_values_key(as_of_date, window_months) as
concat_ws('|', as_of_date::date, window_months::integer);

create or replace temp macro customer_tiers_key(as_of_date, a_share, b_share, window_months) as
concat_ws('|', as_of_date::date, a_share::double, b_share::double, window_months::integer);

-- The customers known at the end of as_of_date: created_at on or before it or, when created_at
-- is unknown, an order, a deal (its created_at, else its closed_at) or an activity (its own
-- customer_id, else its deal's customer) on or before it.
-- grain: one row per customer of the customers table known at the as-of date.
--   known_since_date  created_at's date, else the earliest of those dates (on or before as_of_date)
create or replace temp macro compute_customer_universe(as_of_date) as table
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

-- The shared macro: the rows of its shared_* table when the connection lists these arguments'
-- key, else computed (the definition above).
create or replace temp macro customer_universe(as_of_date) as table
    select customer_id, known_since_date,
    from shared_customer_universe
    where state_key = customer_universe_key(as_of_date)
        and is_shared('customer_universe', customer_universe_key(as_of_date))
    union all
    select customer_id, known_since_date,
    from compute_customer_universe(as_of_date)
    where not is_shared('customer_universe', customer_universe_key(as_of_date));

-- A customer's value: net order amount over the window_months months ending on the as-of
-- date (from as-of - window + 1 day), or, when the warehouse holds no orders at all, the
-- amount of won deals closed in that window; below zero counts as zero.
-- grain: one row per customer of customer_universe(as_of_date).
create or replace temp macro compute_customer_values(as_of_date, window_months) as table
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

-- The shared macro: the rows of its shared_* table when the connection lists these arguments'
-- key, else computed (the definition above).
create or replace temp macro customer_values(as_of_date, window_months) as table
    select customer_id, value,
    from shared_customer_values
    where state_key = customer_values_key(as_of_date, window_months)
        and is_shared('customer_values', customer_values_key(as_of_date, window_months))
    union all
    select customer_id, value,
    from compute_customer_values(as_of_date, window_months)
    where not is_shared('customer_values', customer_values_key(as_of_date, window_months));

-- ABC (Pareto) tiers: customers by value descending, ties by customer_id ascending;
-- A = the shortest prefix whose cumulative value reaches >= a_share of the total, B = the
-- next customers up to the shortest prefix reaching >= b_share, C = everyone else (zero
-- value included). With a total of zero everyone is C.
-- grain: one row per customer of the universe above.
create or replace temp macro compute_customer_tiers(as_of_date, a_share, b_share, window_months) as table
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

-- The shared macro: the rows of its shared_* table when the connection lists these arguments'
-- key, else computed (the definition above).
create or replace temp macro customer_tiers(as_of_date, a_share, b_share, window_months) as table
    select customer_id, value, value_rank, cumulative_before, total_value, tier,
    from shared_customer_tiers
    where state_key = customer_tiers_key(as_of_date, a_share, b_share, window_months)
        and is_shared('customer_tiers', customer_tiers_key(as_of_date, a_share, b_share, window_months))
    union all
    select customer_id, value, value_rank, cumulative_before, total_value, tier,
    from compute_customer_tiers(as_of_date, a_share, b_share, window_months)
    where not is_shared('customer_tiers', customer_tiers_key(as_of_date, a_share, b_share, window_months));
