-- Shared purchase definitions (temporary, per connection): purchases, lifecycle state as of a
-- date, and the group a customer falls in for a breakdown. DESIGN.md "Orders",
-- "Repurchase", "Churn and lifecycle".

-- A purchase is an order with amount > 0; returns and cancellations (amount <= 0) count in
-- revenue but are never purchases. Consecutive purchases of a customer are ordered by date,
-- then order_id.
-- grain: one row per purchase.
--   purchase_number         1 for the customer's first purchase, 2 for the next, ...
create or replace temp view purchase_history as
select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.amount,
    row_number() over (
        partition by orders.customer_id order by orders.order_date, orders.order_id
    ) as purchase_number,
from orders
where orders.amount > 0;

-- Purchase days: the days on which a customer made at least one purchase. Several orders on
-- one day are one purchase day (as in BG/NBD), so a gap between purchase days is never 0.
-- Every purchase gap (repurchase median_gap_days, the churn-risk list, reactivation) is
-- taken between consecutive purchase days.
-- grain: one row per customer and purchase day.
--   count_day_purchases     purchases on that day
--   amount                  their amount
--   day_number              1 for the customer's first purchase day, 2 for the next, ...
--   previous_purchase_date  the purchase day before (null for the first)
--   gap_days                purchase_date - previous_purchase_date in days (>= 1; null for
--                           the first)
create or replace temp view compute_purchase_days as
with

days as (
    select
        customer_id,
        order_date as purchase_date,
        count(*) as count_day_purchases,
        sum(amount) as amount,
    from purchase_history
    group by customer_id, order_date
)

select
    customer_id,
    purchase_date,
    count_day_purchases,
    amount,
    row_number() over customer_days as day_number,
    lag(purchase_date) over customer_days as previous_purchase_date,
    date_diff('day', lag(purchase_date) over customer_days, purchase_date) as gap_days,
from days
window customer_days as (partition by customer_id order by purchase_date);

-- Per-snapshot state (as in customers.sql): crmreview.metrics.shared fills shared_purchase_days
-- once on a connection that reads a published snapshot and lists it in shared_state;
-- purchase_days reads it there.
create temp table if not exists shared_purchase_days (
    customer_id varchar,
    purchase_date date,
    count_day_purchases bigint,
    amount decimal(38, 2),
    day_number bigint,
    previous_purchase_date date,
    gap_days bigint
);

create or replace temp view purchase_days as
select customer_id, purchase_date, count_day_purchases, amount, day_number, previous_purchase_date, gap_days,
from shared_purchase_days
where is_shared('purchase_days', '')
union all
select customer_id, purchase_date, count_day_purchases, amount, day_number, previous_purchase_date, gap_days,
from compute_purchase_days
where not is_shared('purchase_days', '');

-- The lifecycle state of a customer first seen age_days ago, last recency_days ago, with a
-- reactivation (a purchase in the period after a gap > churn_days) or not: the first of new,
-- reactivated, active, dormant, churned that applies (see lifecycle_states below).
create or replace temp macro lifecycle_state(
    age_days, has_reactivation, recency_days, new_days, active_days, churn_days
) as
case
    when age_days <= new_days::integer then 'new'
    when has_reactivation then 'reactivated'
    when recency_days <= active_days::integer then 'active'
    when recency_days <= churn_days::integer then 'dormant'
    else 'churned'
end;

-- Each customer's lifecycle state at the end of as_of_date, from purchases on or before it.
-- recency_days = as_of_date - last purchase date. The state is the first that applies:
--   new          as_of_date - first purchase date <= new_days
--   reactivated  a purchase day between window_start and as_of_date whose gap since the
--                previous purchase day exceeded churn_days (window_start: the period's first day)
--   active       recency_days <= active_days
--   dormant      recency_days <= churn_days
--   churned      otherwise
-- grain: one row per customer with a purchase on or before as_of_date (a customer with only
--   returns is not here).
--   count_purchases      purchases (orders with amount > 0) up to the date
--   count_purchase_days  purchase days up to the date
--   median_gap_days      median gap between the customer's consecutive purchase days up to
--                        the date (null with a single purchase day)
create or replace temp macro compute_lifecycle_states(
    as_of_date, window_start, new_days, active_days, churn_days
) as table
    with
    history as (
        select * from purchase_days where purchase_date <= as_of_date::date
    ),

    per_customer as (
        select
            customer_id,
            min(purchase_date) as first_purchase_date,
            max(purchase_date) as last_purchase_date,
            sum(count_day_purchases)::bigint as count_purchases,
            count(*) as count_purchase_days,
            coalesce(
                bool_or(purchase_date >= window_start::date and gap_days > churn_days::integer),
                false
            ) as has_reactivation,
        from history
        group by customer_id
    ),

    -- the exact median gap of each customer (quantile_cont's value: the middle gap, or the
    -- mean of the two middle ones) from the gaps ranked in order: a sort, which spills to
    -- disk beyond the memory limit, where a per-customer quantile keeps every list in memory
    ranked_gaps as (
        select
            customer_id,
            gap_days,
            row_number() over (partition by customer_id order by gap_days) as gap_rank,
            count(*) over (partition by customer_id) as count_gaps,
        from history
        where gap_days is not null
    ),

    median_gaps as (
        select customer_id, avg(gap_days) as median_gap_days,
        from ranked_gaps
        where gap_rank in ((count_gaps + 1) // 2, count_gaps // 2 + 1)
        group by customer_id
    ),

    with_recency as (
        select
            per_customer.*,
            median_gaps.median_gap_days,
            date_diff('day', per_customer.last_purchase_date, as_of_date::date) as recency_days,
            date_diff('day', per_customer.first_purchase_date, as_of_date::date) as age_days,
        from per_customer
        left join median_gaps on per_customer.customer_id = median_gaps.customer_id
    )

    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        count_purchases,
        count_purchase_days,
        median_gap_days,
        recency_days,
        age_days,
        lifecycle_state(age_days, has_reactivation, recency_days, new_days, active_days, churn_days)
            as lifecycle_state,
    from with_recency;

-- lifecycle_states, shared per snapshot (as in customers.sql): the rows of
-- shared_lifecycle_states when the connection lists these arguments' key, else computed.
create temp table if not exists shared_lifecycle_states (
    state_key varchar not null,
    customer_id varchar,
    first_purchase_date date,
    last_purchase_date date,
    count_purchases bigint,
    count_purchase_days bigint,
    median_gap_days double,
    recency_days bigint,
    age_days bigint,
    lifecycle_state varchar
);

create or replace temp macro lifecycle_states_key(as_of_date, window_start, new_days, active_days, churn_days) as
concat_ws(
    '|', as_of_date::date, window_start::date, new_days::integer, active_days::integer, churn_days::integer
);

create or replace temp macro lifecycle_states(as_of_date, window_start, new_days, active_days, churn_days) as table
    -- the shared table holds its key and the compute macro's columns
    select * exclude (state_key)  -- noqa: AM04
    from shared_lifecycle_states
    where state_key = lifecycle_states_key(as_of_date, window_start, new_days, active_days, churn_days)
        and is_shared(
            'lifecycle_states', lifecycle_states_key(as_of_date, window_start, new_days, active_days, churn_days)
        )
    union all by name
    select *
    from compute_lifecycle_states(as_of_date, window_start, new_days, active_days, churn_days)
    where not is_shared(
            'lifecycle_states', lifecycle_states_key(as_of_date, window_start, new_days, active_days, churn_days)
        );

-- The lifecycle states in report order, with their rank.
-- grain: one row per state.
create or replace temp view lifecycle_state_list as
select * from (
    values ('new', 1), ('reactivated', 2), ('active', 3), ('dormant', 4), ('churned', 5)
) as states (lifecycle_state, state_rank);

-- The group each customer falls in for a breakdown: group_by is all | tier | one of
-- customer_groups (queries/macros/customer_dimensions.sql: rep, team, channel, region,
-- industry, size_band, attr:NAME, tag:NAME), for every customer id found in customers or
-- orders; tier = the ABC tier at as_of_date (queries/macros/customers.sql).
-- A customer without a value (or not in the customers table) is in group '' (in 'all' for all).
-- grain: one row per customer id found in customers or orders and group (one group per
--   customer but for tag:NAME).
create or replace temp macro buyer_groups(group_by, as_of_date, a_share, b_share, window_months) as table
    with
    ids as (
        select customer_id from customers
        union
        select customer_id from orders
    ),

    tiers as (
        select customer_id, tier,
        from customer_tiers(as_of_date, a_share, b_share, window_months)
        where group_by = 'tier'
    ),

    grouped as (
        select customer_id, group_key,
        from customer_groups(group_by)
        where group_by not in ('all', 'tier')
    )

    select
        ids.customer_id,
        case group_by
            when 'all' then 'all'
            when 'tier' then coalesce(tiers.tier, '')
            else coalesce(grouped.group_key, '')
        end as group_key,
    from ids
    left join tiers on ids.customer_id = tiers.customer_id
    left join grouped on ids.customer_id = grouped.customer_id;

-- Each customer's purchase history summarised for the BG/NBD model (frequency, recency, age),
-- with the purchases of a holdout period after the calibration end. Purchases are counted by
-- purchase day (purchase_days), as in Fader, Hardie and Lee (2005).
-- grain: one row per customer with a purchase on or before calibration_end.
--   frequency          repeat purchase days up to calibration_end (purchase days - 1)
--   recency_days       last purchase day - first purchase day (up to calibration_end)
--   age_days           calibration_end - first purchase day (T)
--   holdout_purchases  purchase days after calibration_end up to holdout_end
create or replace temp macro customer_rfm(calibration_end, holdout_end) as table
    select
        customer_id,
        count(*) filter (where purchase_date <= calibration_end::date) - 1 as frequency,
        date_diff(
            'day', min(purchase_date), max(purchase_date) filter (where purchase_date <= calibration_end::date)
        ) as recency_days,
        date_diff('day', min(purchase_date), any_value(calibration_end::date)) as age_days,
        count(*) filter (where purchase_date > calibration_end::date) as holdout_purchases,
    from purchase_days
    where purchase_date <= holdout_end::date
    group by customer_id
    having min(purchase_date) <= any_value(calibration_end::date);
