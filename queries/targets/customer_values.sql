-- The customers a split rep target is spread over: each customer the reps own, with its ABC
-- tier and value at the day before the period starts.
--
-- grain: one row per customer of the tier universe at $as_of owned by one of $rep_ids,
--   by owner_rep_id then customer_id.
-- params: $rep_ids (varchar[]); $as_of (date); $tier_a_share, $tier_b_share (fractions),
--   $value_window_months (integer): the ABC tier settings (customer_tiers).
-- invariant: tier in ('A', 'B', 'C')
-- invariant: value >= 0

with

customers as (select * from customers),

params as (
    select $rep_ids::varchar [] as rep_ids,
),

tiers as (
    select * from customer_tiers($as_of, $tier_a_share, $tier_b_share, $value_window_months)
),

final as (
    select
        customers.owner_rep_id,
        customers.customer_id,
        customers.name,
        tiers.tier,
        tiers.value::double as value,
    from tiers
    cross join params
    inner join customers on tiers.customer_id = customers.customer_id
    where list_contains(params.rep_ids, customers.owner_rep_id)
)

select * from final
order by owner_rep_id, customer_id
