-- ABC tier of every customer known at the as-of date, with the value it rests on.
--
-- grain: one row per customer of the universe (see queries/macros/customers.sql), in
--   value order (value descending, customer_id ascending).
-- params: $as_of (date); $tier_a_share, $tier_b_share (fractions, e.g. 0.8 and 0.95);
--   $value_window_months (integer, e.g. 12).
-- invariant: value_rank = row_number() over (order by value_rank)
-- invariant: tier >= lag(tier) over (order by value_rank)
-- The first B customer comes after $tier_a_share of the value:
-- invariant: tier <> 'B' or lag(tier) over (order by value_rank) <> 'A'
--   or cumulative_before >= $tier_a_share * total_value

with

tiers as (select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)),

final as (
    select customer_id, value, value_rank, cumulative_before, total_value, tier,
    from tiers
)

select * from final
order by value_rank
