-- Follow-up compliance per group and tier: who is overdue against the tier cadence.
--
-- grain: one row per breakdown ($by, then each of $more_by), group and tier (A, B, C; every
--   tier present for every group) plus one total row per group with tier null (last); for the
--   breakdown 'all' the single group 'all' is present even with no customers.
-- params: $as_of (date); $tier_a_share, $tier_b_share (fractions); $value_window_months (integer);
--   $cadence_a, $cadence_b, $cadence_c (days); $pool_days (integer); $by (all | rep | team |
--   channel | region | tier | industry | size_band | attr:NAME | tag:NAME: the customer's owner
--   rep, its team, source channel, region, ABC tier ...); $more_by (varchar[]: further
--   breakdowns of the same kinds counted in the same pass, e.g. ['rep', 'team']; [] for none);
--   $period_start, $period_end (dates: the period whose activities make conflicts).
-- definitions: customers of the universe at the as-of date (customer_followup);
--   share_compliant = 1 - count_overdue / count_customers (null without customers);
--   count_conflicts = customers with activities by more than one rep between $period_start
--   and the earlier of $period_end and $as_of (activity_conflicts, computed once for every
--   breakdown).
-- Per breakdown and group, the tier rows sum to the total row (so the group's sum is twice it):
-- invariant: tier is not null
--   or 2 * count_customers = sum(count_customers) over (partition by breakdown, group_key)
-- invariant: tier is not null
--   or 2 * count_overdue = sum(count_overdue) over (partition by breakdown, group_key)
-- invariant: count_never_contacted <= count_overdue and count_overdue <= count_customers
-- invariant: count_pool_candidates <= count_customers

with

followup as (
    select * from customer_followup(
        $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
    )
),

conflicts as (
    select * from activity_conflicts($period_start, least($period_end::date, $as_of::date))
),

breakdowns as (
    select breakdown, min(breakdown_no) as breakdown_no,
    from (
        select $by::varchar as breakdown, 0 as breakdown_no,
        union all
        select
            unnest($more_by::varchar []) as breakdown,
            generate_subscripts($more_by::varchar [], 1) as breakdown_no,
    )
    group by breakdown
),

-- each breakdown's group of every customer (by tier: the tier, read from followup below)
group_keys as (
    select breakdowns.breakdown, keyed.customer_id, keyed.group_key,
    from breakdowns,
        lateral (
            select customer_id, group_key,
            from customer_groups(case when breakdowns.breakdown = 'tier' then 'all' else breakdowns.breakdown end)
        ) as keyed
),

customer_rows as (
    select
        followup.*,
        breakdowns.breakdown,
        case when breakdowns.breakdown = 'tier' then followup.tier else group_keys.group_key end as group_key,
        conflicts.customer_id is not null as has_conflict,
    from followup
    cross join breakdowns
    left join group_keys
        on followup.customer_id = group_keys.customer_id
            and breakdowns.breakdown = group_keys.breakdown
    left join conflicts on followup.customer_id = conflicts.customer_id
),

group_list as (
    select distinct breakdown, group_key, from customer_rows
    union
    select breakdown, 'all' as group_key, from breakdowns where breakdown = 'all'
),

tier_list as (select unnest(['A', 'B', 'C']) as tier),

counted as (
    select
        breakdown,
        group_key,
        tier,
        count(*) as count_customers,
        count(*) filter (where is_overdue) as count_overdue,
        count(*) filter (where is_never_contacted) as count_never_contacted,
        count(*) filter (where is_pool_candidate) as count_pool_candidates,
        count(*) filter (where has_conflict) as count_conflicts,
        median(days_since_activity) as median_days_since_activity,
        sum(value) as value,
    from customer_rows
    -- sqlfluff's duckdb dialect does not parse grouping sets
    group by grouping sets ((breakdown, group_key, tier), (breakdown, group_key))  -- noqa: PRS
),

rows_wanted as (
    select group_list.breakdown, group_list.group_key, tier_list.tier,
    from group_list
    cross join tier_list
    union all
    select breakdown, group_key, null as tier, from group_list
),

final as (
    select
        rows_wanted.breakdown,
        rows_wanted.group_key,
        rows_wanted.tier,
        case rows_wanted.tier
            when 'A' then $cadence_a
            when 'B' then $cadence_b
            when 'C' then $cadence_c
        end::integer as cadence_days,
        coalesce(counted.count_customers, 0) as count_customers,
        coalesce(counted.count_overdue, 0) as count_overdue,
        1 - counted.count_overdue / counted.count_customers as share_compliant,
        coalesce(counted.count_never_contacted, 0) as count_never_contacted,
        coalesce(counted.count_pool_candidates, 0) as count_pool_candidates,
        coalesce(counted.count_conflicts, 0) as count_conflicts,
        counted.median_days_since_activity,
        coalesce(counted.value, 0)::decimal(18, 2) as value,
        breakdowns.breakdown_no,
    from rows_wanted
    left join counted
        on rows_wanted.breakdown = counted.breakdown
            and rows_wanted.group_key = counted.group_key
            and rows_wanted.tier is not distinct from counted.tier
    inner join breakdowns on rows_wanted.breakdown = breakdowns.breakdown
)

select * exclude (breakdown_no) from final
order by breakdown_no, group_key, tier nulls last
