-- Customers whose ABC tier changed between the comparison as-of date and this one.
--
-- grain: one row per customer in both universes whose tier differs (new customers are not
--   movers); at most $list_limit rows per direction (null: all).
-- params: $as_of, $previous_as_of (dates); $tier_a_share, $tier_b_share; $value_window_months; $list_limit.
-- order: moved down first, then up; within each, by the larger of the two values
--   descending, then customer_id.
-- invariant: direction in ('up', 'down')
-- invariant (not checked): count(direction = 'down') = sum of the migration cells below the diagonal.

with

changes as (
    select * from tier_changes($as_of, $previous_as_of, $tier_a_share, $tier_b_share, $value_window_months)
),

customer_names as (select customer_id, name, owner_rep_id, from customers),

final as (
    select
        changes.customer_id,
        customer_names.name,
        customer_names.owner_rep_id,
        changes.from_tier,
        changes.to_tier,
        changes.direction,
        changes.previous_value,
        changes.value,
    from changes
    left join customer_names on changes.customer_id = customer_names.customer_id
    where changes.direction in ('up', 'down')
)

select * from final
qualify
    $list_limit is null
    or row_number() over (
        partition by direction order by greatest(value, previous_value) desc, customer_id
    ) <= $list_limit
order by direction = 'up', greatest(value, previous_value) desc, customer_id
