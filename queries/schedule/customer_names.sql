-- Names of the customers a reminder lists.
-- grain: one row per customer of $customer_ids (a list of ids) that the warehouse knows.

with

customers as (select * from customers),

final as (
    select
        customer_id,
        name,
    from customers
    where list_contains($customer_ids::varchar [], customer_id)
)

select * from final
order by customer_id
