-- Shared follow-up definitions (temporary, per connection): each customer's follow-up state,
-- customers worked by several reps, and each rep's workload. Builds on customer_tiers
-- (customers.sql), which loads before this file.

-- Activities with the customer they concern: the activity's customer_id, else the customer
-- of its deal; activities concerning no known customer are left out.
-- grain: one row per activity.
create or replace temp view compute_customer_activities as
select
    activities.activity_id,
    coalesce(activities.customer_id, deals.customer_id) as customer_id,
    activities.rep_id,
    activities.kind,
    activities.occurred_at,
from activities
left join deals on activities.deal_id = deals.deal_id
where coalesce(activities.customer_id, deals.customer_id) is not null;

-- Shared per snapshot (as in customers.sql): crmreview.metrics.shared fills
-- shared_customer_activities once on a connection that reads a published snapshot and lists
-- it in shared_state.
create temp table if not exists shared_customer_activities (
    activity_id varchar,
    customer_id varchar,
    rep_id varchar,
    kind varchar,
    occurred_at timestamp
);

create or replace temp view customer_activities as
select activity_id, customer_id, rep_id, kind, occurred_at,
from shared_customer_activities
where is_shared('customer_activities', '')
union all
select activity_id, customer_id, rep_id, kind, occurred_at,
from compute_customer_activities
where not is_shared('customer_activities', '');

-- Each customer's follow-up state at the end of the as-of date.
-- grain: one row per customer of the customer_tiers universe.
--   tier, value              the ABC tier and value at the as-of date
--   last_activity_at         the latest activity on or before the as-of date (any rep)
--   days_since_activity      as-of date - date of last_activity_at; null: no activity ever
--   cadence_days             the tier's cadence (cadence_a / cadence_b / cadence_c)
--   is_overdue               days_since_activity > cadence_days, or no activity ever
--   known_since_date         created_at's date, else the first order, deal or activity date
--                            (customer_universe, customers.sql)
--   is_pool_candidate        owned (owner_rep_id set) and no activity for more than pool_days:
--                            days_since_activity > pool_days or, with no activity ever,
--                            known for more than pool_days (or since an unknown date)
create or replace temp macro compute_customer_followup(
    as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
) as table
    with
    tiers as (
        select customer_id, value, tier, from customer_tiers(as_of_date, a_share, b_share, window_months)
    ),

    last_activities as (
        select customer_id, max(occurred_at) as last_activity_at,
        from customer_activities
        where occurred_at < as_of_date::date + interval 1 day
        group by customer_id
    ),

    universe as (select customer_id, known_since_date, from customer_universe(as_of_date)),

    followup as (
        select
            tiers.customer_id,
            customers.owner_rep_id,
            tiers.tier,
            tiers.value,
            last_activities.last_activity_at,
            date_diff('day', last_activities.last_activity_at::date, as_of_date::date) as days_since_activity,
            case tiers.tier
                when 'A' then cadence_a::integer
                when 'B' then cadence_b::integer
                else cadence_c::integer
            end as cadence_days,
            universe.known_since_date,
        from tiers
        left join customers on tiers.customer_id = customers.customer_id
        left join last_activities on tiers.customer_id = last_activities.customer_id
        left join universe on tiers.customer_id = universe.customer_id
    )

    select
        customer_id,
        owner_rep_id,
        tier,
        value,
        last_activity_at,
        days_since_activity,
        cadence_days,
        known_since_date,
        last_activity_at is null as is_never_contacted,
        coalesce(days_since_activity > cadence_days, true) as is_overdue,
        owner_rep_id is not null
        and coalesce(
            days_since_activity > pool_days::integer,
            coalesce(date_diff('day', known_since_date, as_of_date::date) > pool_days::integer, true)
        ) as is_pool_candidate,
    from followup;

-- customer_followup, shared per snapshot (as in customers.sql): the rows of
-- shared_customer_followup when the connection lists these arguments' key, else computed.
create temp table if not exists shared_customer_followup (
    state_key varchar not null,
    customer_id varchar,
    owner_rep_id varchar,
    tier varchar,
    value decimal(18, 2),
    last_activity_at timestamp,
    days_since_activity bigint,
    cadence_days integer,
    known_since_date date,
    is_never_contacted boolean,
    is_overdue boolean,
    is_pool_candidate boolean
);

create or replace temp macro customer_followup_key(
    as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
) as concat_ws(
    '|',
    customer_tiers_key(as_of_date, a_share, b_share, window_months),
    cadence_a::integer,
    cadence_b::integer,
    cadence_c::integer,
    pool_days::integer
);

create or replace temp macro customer_followup(
    as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
) as table
    -- the shared table holds its key and the compute macro's columns
    select * exclude (state_key)  -- noqa: AM04
    from shared_customer_followup
    where
        state_key = customer_followup_key(
            as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
        )
        and is_shared(
            'customer_followup',
            customer_followup_key(
                as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
            )
        )
    union all by name
    select *
    from
        compute_customer_followup(
            as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
        )
    where not is_shared(
            'customer_followup',
            customer_followup_key(
                as_of_date, a_share, b_share, window_months, cadence_a, cadence_b, cadence_c, pool_days
            )
        );

-- Ownership conflicts: customers with activities by more than one rep between start_date
-- and end_date (both included; pass least(period end, as-of date) as end_date).
-- grain: one row per such customer (activities without rep_id are not counted).
--   rep_ids                       the reps, sorted
--   count_other_rep_activities    activities by reps other than the customer's owner
create or replace temp macro activity_conflicts(start_date, end_date) as table
    with
    period_activities as (
        select customer_activities.customer_id, customer_activities.rep_id, customers.owner_rep_id,
        from customer_activities
        left join customers on customer_activities.customer_id = customers.customer_id
        where customer_activities.rep_id is not null
            and customer_activities.occurred_at::date between start_date::date and end_date::date
    )

    select
        customer_id,
        any_value(owner_rep_id) as owner_rep_id,
        count(distinct rep_id) as count_reps,
        list_sort(list(distinct rep_id)) as rep_ids,
        count(*) as count_activities,
        count(*) filter (where owner_rep_id is null or rep_id <> owner_rep_id) as count_other_rep_activities,
    from period_activities
    group by customer_id
    having count(distinct rep_id) > 1;

-- Each rep's workload and target attainment for a period, as of a date.
-- grain: one row per rep known from reps, from the owners of customers in the universe, or
--   from targets overlapping the period.
--   count_customers, count_a_customers   owned customers of the universe, and the A-tier ones
--   won_amount          won deals the rep owns, closed in the period and by the end of the
--                       as-of date (the deal's created_at does not matter)
--   target_amount       sum of the rep's targets whose range overlaps the period (null: none)
--   target_won_amount   won amount closed within those targets' ranges (as of the as-of date)
--   target_start_date, target_end_date   the span of those targets
create or replace temp macro rep_workload(
    as_of_date, period_start_date, period_end_date, a_share, b_share, window_months
) as table
    with
    owned as (
        select
            customers.owner_rep_id as rep_id,
            count(*) as count_customers,
            count(*) filter (where tiers.tier = 'A') as count_a_customers,
        from customer_tiers(as_of_date, a_share, b_share, window_months) as tiers
        inner join customers on tiers.customer_id = customers.customer_id
        where customers.owner_rep_id is not null
        group by customers.owner_rep_id
    ),

    won_deals as (
    -- won by the end of the as-of date (a deal closed later is open as of it); a won deal
    -- counts whatever its created_at, which may be unknown
        select owner_rep_id as rep_id, closed_at::date as closed_date, amount,
        from deals
        where outcome = 'won'
            and closed_at < as_of_date::date + interval 1 day
            and owner_rep_id is not null
    ),

    period_targets as (
        select row_number() over () as target_no, rep_id, period_start, period_end, target_amount,
        from targets
        where period_start <= period_end_date::date and period_end >= period_start_date::date
    ),

    target_results as (
        select
            period_targets.target_no,
            any_value(period_targets.rep_id) as rep_id,
            any_value(period_targets.period_start) as period_start,
            any_value(period_targets.period_end) as period_end,
            any_value(period_targets.target_amount) as target_amount,
            coalesce(sum(won_deals.amount), 0) as won_amount,
        from period_targets
        left join won_deals
            on period_targets.rep_id = won_deals.rep_id
                and won_deals.closed_date between period_targets.period_start and period_targets.period_end
        group by period_targets.target_no
    ),

    targets_won as (
        select
            rep_id,
            sum(target_amount) as target_amount,
            sum(won_amount) as target_won_amount,
            min(period_start) as target_start_date,
            max(period_end) as target_end_date,
        from target_results
        group by rep_id
    ),

    period_won as (
        select rep_id, sum(amount) as won_amount,
        from won_deals
        where closed_date between period_start_date::date and period_end_date::date
        group by rep_id
    ),

    rep_list as (
        select rep_id from reps
        union
        select rep_id from owned
        union
        select rep_id from period_targets
    )

    select
        rep_list.rep_id,
        reps.name,
        reps.team,
        coalesce(owned.count_customers, 0) as count_customers,
        coalesce(owned.count_a_customers, 0) as count_a_customers,
        coalesce(period_won.won_amount, 0) as won_amount,
        targets_won.target_amount,
        targets_won.target_won_amount,
        targets_won.target_start_date,
        targets_won.target_end_date,
    from rep_list
    left join reps on rep_list.rep_id = reps.rep_id
    left join owned on rep_list.rep_id = owned.rep_id
    left join period_won on rep_list.rep_id = period_won.rep_id
    left join targets_won on rep_list.rep_id = targets_won.rep_id;
