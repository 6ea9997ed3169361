-- Tier migration: ABC tier at the comparison period's as-of date x tier at this one.
--
-- grain: one row per (from_tier, to_tier) for from_tier in A, B, C, new and to_tier in A,
--   B, C (zero counts included), plus any pair with to_tier 'gone' that occurs.
-- params: $as_of, $previous_as_of (dates); $tier_a_share, $tier_b_share (fractions); $value_window_months.
-- definitions: over the customers in either universe (tier_changes); 'new' = not in the
--   universe at $previous_as_of; value / previous_value = their tier values at each date.
-- Customers at $previous_as_of (from_tier <> 'new'), and at $as_of (to_tier <> 'gone'):
-- invariant: sum(case when from_tier <> 'new' then count_customers else 0 end) over ()
--   = (select count(*) from customer_tiers($previous_as_of, $tier_a_share, $tier_b_share, $value_window_months))
-- invariant: sum(case when to_tier <> 'gone' then count_customers else 0 end) over ()
--   = (select count(*) from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months))

with

changes as (
    select * from tier_changes($as_of, $previous_as_of, $tier_a_share, $tier_b_share, $value_window_months)
),

pair_counts as (
    select
        from_tier,
        to_tier,
        count(*) as count_customers,
        sum(value) as value,
        sum(previous_value) as previous_value,
    from changes
    group by from_tier, to_tier
),

pairs as (
    select from_tiers.from_tier, to_tiers.to_tier,
    from (select unnest(['A', 'B', 'C', 'new']) as from_tier) as from_tiers
    cross join (select unnest(['A', 'B', 'C']) as to_tier) as to_tiers
    union
    select from_tier, to_tier, from pair_counts
),

final as (
    select
        pairs.from_tier,
        pairs.to_tier,
        coalesce(pair_counts.count_customers, 0) as count_customers,
        coalesce(pair_counts.value, 0)::decimal(18, 2) as value,
        coalesce(pair_counts.previous_value, 0)::decimal(18, 2) as previous_value,
    from pairs
    left join pair_counts
        on pairs.from_tier = pair_counts.from_tier
            and pairs.to_tier = pair_counts.to_tier
)

select * from final
order by
    list_position(['A', 'B', 'C', 'new'], from_tier),
    list_position(['A', 'B', 'C', 'gone'], to_tier)
