-- ABC tier of every customer known at the as-of date, with the value it rests on.
--
-- grain: one row per customer of the universe (see queries/macros/customers.sql), in
--   value order (value descending, customer_id ascending).
-- params: $as_of (date); $a_share, $b_share (fractions, e.g. 0.8 and 0.95);
--   $window_months (integer, e.g. 12).
-- invariants: value_rank is 1..n without gaps; tiers appear in the order A, B, C;
--   cumulative_before of the first B customer >= $a_share * total_value.

with

tiers as (select * from customer_tiers($as_of, $a_share, $b_share, $window_months)),

final as (
    select customer_id, value, value_rank, cumulative_before, total_value, tier,
    from tiers
)

select * from final
order by value_rank
