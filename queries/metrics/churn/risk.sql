-- The churn-risk list: active or dormant customers with at least two purchase days whose
-- recency exceeds $risk_gap_factor times their own median gap between purchase days (several
-- orders on one day are one purchase day, so the gap is never 0), by value at stake
-- (DESIGN.md "Churn and lifecycle": churn-risk list).
--
-- grain: one row per customer at risk at $as_of, sorted by value (the tier definition:
--   net order amount over the $value_window_months months ending on $as_of, floored at 0)
--   descending, then customer_id; per group only the first $list_length customers (the
--   group's totals still count them all). A customer outside the tier universe has value 0
--   and tier C.
-- params: $as_of (date); $window_start (date): the period's first day (for 'reactivated');
--   $new_days, $active_days, $churn_days (integers); $risk_gap_factor (e.g. 1.5);
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings; $by: all | rep | team |
--   channel | tier | region (the group_key column); $list_length (integer): rows kept per group.
-- columns: group_key, customer_id, customer_name, owner_rep_id, rep_name, team, tier, value,
--   lifecycle_state, count_purchases, count_purchase_days, first_purchase_date,
--   last_purchase_date, recency_days, median_gap_days (the repurchase median_gap_days
--   definition, per customer), gap_ratio (recency / median gap),
--   risk_rank (1.. in value order within the group), count_group_at_risk and
--   group_value_at_risk (all the group's customers at risk, and their value).
-- invariant: lifecycle_state in ('active', 'dormant')
-- invariant: count_purchase_days >= 2
-- invariant: median_gap_days >= 1
-- invariant: recency_days > $risk_gap_factor * median_gap_days
-- invariant: risk_rank <= count_group_at_risk

with

customers as (select * from customers),

reps as (select * from reps),

states as (select * from lifecycle_states($as_of, $window_start, $new_days, $active_days, $churn_days)),

tiers as (select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)),

buyer_groups as (select * from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)),

at_risk as (
    select *
    from states
    where lifecycle_state in ('active', 'dormant')
        and count_purchase_days >= 2
        and recency_days > $risk_gap_factor::double * median_gap_days
),

listed as (
    select
        buyer_groups.group_key,
        at_risk.customer_id,
        customers.name as customer_name,
        customers.owner_rep_id,
        reps.name as rep_name,
        reps.team,
        coalesce(tiers.tier, 'C') as tier,
        coalesce(tiers.value, 0)::decimal(18, 2) as value,
        at_risk.lifecycle_state,
        at_risk.count_purchases,
        at_risk.count_purchase_days,
        at_risk.first_purchase_date,
        at_risk.last_purchase_date,
        at_risk.recency_days,
        at_risk.median_gap_days,
        at_risk.recency_days / nullif(at_risk.median_gap_days, 0) as gap_ratio,
    from at_risk
    inner join buyer_groups on at_risk.customer_id = buyer_groups.customer_id
    left join customers on at_risk.customer_id = customers.customer_id
    left join reps on customers.owner_rep_id = reps.rep_id
    left join tiers on at_risk.customer_id = tiers.customer_id
),

final as (
    select
        *,
        row_number() over (partition by group_key order by value desc, customer_id asc) as risk_rank,
        count(*) over (partition by group_key) as count_group_at_risk,
        sum(value) over (partition by group_key) as group_value_at_risk,
    from listed
    qualify risk_rank <= $list_length::integer
)

select * from final
order by group_key asc, value desc, customer_id asc
