-- Distribution of customers and value over the tiers, per group.
--
-- grain: one row per group and tier (A, B, C), every tier present for every group; for
--   $by = 'all' the single group 'all' is present even with no customers.
-- params: $as_of (date); $tier_a_share, $tier_b_share (ABC thresholds, fractions); $value_window_months
--   (integer); $by (all | rep | team | channel | region: the customer's owner rep, its team,
--   source channel, region); $method (abc | scorecard: which tier is counted);
--   $dimensions (scorecard dimensions, JSON text), $cutoff_a, $cutoff_b (scorecard cut-offs).
-- invariant: abs(sum(share_of_customers) over (partition by group_key) - 1) < 1e-9
-- invariant: abs(sum(share_of_value) over (partition by group_key) - 1) < 1e-9
-- invariant: sum(value) over (partition by group_key) <> 0 or share_of_value is null
-- (The sums of shares are null for a group without customers, resp. value.)
-- columns: mean_score is the mean scorecard score in the row; count_same_tier_both_methods
--   counts its customers whose ABC and scorecard tiers agree. Both need the scorecard, which
--   is computed only for $method = 'scorecard' (the costly part: a rank per dimension over
--   every customer); for 'abc' they are null and 0.

with

abc_tiers as (select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)),

scorecard as (
    select * from customer_scorecard($as_of, $value_window_months, $dimensions, $cutoff_a, $cutoff_b)
    where $method = 'scorecard'
),

group_keys as (select * from customer_groups($by)),

customer_rows as (
    select
        abc_tiers.customer_id,
        abc_tiers.value,
        case when $method = 'scorecard' then scorecard.tier else abc_tiers.tier end as tier,
        scorecard.score,
        abc_tiers.tier = scorecard.tier as is_same_tier,
        group_keys.group_key,
    from abc_tiers
    left join scorecard on abc_tiers.customer_id = scorecard.customer_id
    left join group_keys on abc_tiers.customer_id = group_keys.customer_id
),

group_list as (
    select distinct group_key, from customer_rows
    union
    select 'all' as group_key, where $by = 'all'
),

tier_list as (select unnest(['A', 'B', 'C']) as tier),

tier_totals as (
    select
        group_key,
        tier,
        count(*) as count_customers,
        sum(value) as value,
        avg(score) as mean_score,
        count(*) filter (where is_same_tier) as count_same_tier_both_methods,
    from customer_rows
    group by group_key, tier
),

group_totals as (
    select group_key, count(*) as count_customers, sum(value) as value,
    from customer_rows
    group by group_key
),

final as (
    select
        group_list.group_key,
        tier_list.tier,
        coalesce(tier_totals.count_customers, 0) as count_customers,
        coalesce(tier_totals.count_customers, 0) / nullif(group_totals.count_customers, 0) as share_of_customers,
        coalesce(tier_totals.value, 0)::decimal(18, 2) as value,
        (coalesce(tier_totals.value, 0) / nullif(group_totals.value, 0))::double as share_of_value,
        tier_totals.mean_score,
        coalesce(tier_totals.count_same_tier_both_methods, 0) as count_same_tier_both_methods,
    from group_list
    cross join tier_list
    left join tier_totals
        on group_list.group_key = tier_totals.group_key
            and tier_list.tier = tier_totals.tier
    left join group_totals on group_list.group_key = group_totals.group_key
)

select * from final
order by group_key, tier
