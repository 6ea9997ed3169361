-- Ownership conflicts: customers with activities by more than one rep in the period.
--
-- grain: one row per such customer of the universe at the as-of date; most reps first, then
--   most activities by other reps, then customer_id; at most $list_limit rows (null: all).
-- params: $period_start, $period_end, $as_of (dates: activities from $period_start to the
--   earlier of $period_end and $as_of count); $tier_a_share, $tier_b_share, $value_window_months (for the
--   tier shown); $list_limit.
-- columns: rep_ids (sorted list), count_activities (with a rep), count_other_rep_activities
--   (by reps other than the owner).
-- invariant: count_reps >= 2
-- invariant (not checked): the count (without limit) = count_conflicts of followup_compliance.

with

conflicts as (
    select * from activity_conflicts($period_start, least($period_end::date, $as_of::date))
),

tiers as (
    select customer_id, tier, value, from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)
),

customer_names as (select customer_id, name, from customers),

final as (
    select
        conflicts.customer_id,
        customer_names.name,
        conflicts.owner_rep_id,
        tiers.tier,
        tiers.value,
        conflicts.count_reps,
        conflicts.rep_ids,
        conflicts.count_activities,
        conflicts.count_other_rep_activities,
    from conflicts
    inner join tiers on conflicts.customer_id = tiers.customer_id
    left join customer_names on conflicts.customer_id = customer_names.customer_id
)

select * from final
order by count_reps desc, count_other_rep_activities desc, customer_id asc
limit $list_limit
