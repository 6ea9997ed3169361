-- The follow-up backlog: overdue customers of one group, longest overdue first.
--
-- grain: one overdue customer per row (customer_followup, queries/macros/followup.sql: no
--   activity within the tier's cadence, or none ever) in group $group_key of breakdown $by;
--   at most $row_limit rows: never contacted first, then most days past the cadence, then
--   larger value, then customer_id.
-- params: $as_of (date); $tier_a_share, $tier_b_share, $value_window_months: the ABC tier
--   settings; $cadence_a, $cadence_b, $cadence_c, $pool_days (days); $by: all | rep | team |
--   channel | region | tier; $group_key (varchar: the group; '' = customers without a value;
--   ignored for all); $row_limit (integer).
-- columns: customer_id, customer_name, owner_rep_id, rep_name, tier, value, last_activity_date,
--   days_since_activity, cadence_days, days_overdue (null when never contacted),
--   is_never_contacted, count_overdue (all the group's overdue customers).
-- invariant: days_overdue is null or days_overdue > 0

with

customers as (select * from customers),

reps as (select * from reps),

followup as (
    select * from customer_followup(
        $as_of, $tier_a_share, $tier_b_share, $value_window_months, $cadence_a, $cadence_b, $cadence_c, $pool_days
    )
),

groups as (select * from customer_groups($by)),

in_group as (
    select followup.*
    from followup
    left join groups on followup.customer_id = groups.customer_id
    where followup.is_overdue
        and (
            $by::varchar = 'all'
            or ($by::varchar = 'tier' and followup.tier = $group_key::varchar)
            or ($by::varchar != 'tier' and coalesce(groups.group_key, '') = $group_key::varchar)
        )
),

final as (
    select
        in_group.customer_id,
        customers.name as customer_name,
        in_group.owner_rep_id,
        reps.name as rep_name,
        in_group.tier,
        in_group.value,
        in_group.last_activity_at::date as last_activity_date,
        in_group.days_since_activity,
        in_group.cadence_days,
        in_group.days_since_activity - in_group.cadence_days as days_overdue,
        in_group.is_never_contacted,
        count(*) over () as count_overdue,
    from in_group
    left join customers on in_group.customer_id = customers.customer_id
    left join reps on in_group.owner_rep_id = reps.rep_id
)

select * from final
order by is_never_contacted desc, days_overdue desc nulls first, value desc, customer_id asc
limit $row_limit
