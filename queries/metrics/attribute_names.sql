-- The custom fields (attributes) the records carry: what --by attr:NAME / tag:NAME can take.
--
-- grain: one row per table and attribute name.
-- params: none.
-- columns: table_name (customers | deals), attribute, count_records (records with a value).

with

customer_attributes as (
    select unnest(map_keys(customers.attributes)) as attribute from customers
),

deal_attributes as (
    select unnest(map_keys(deals.attributes)) as attribute from deals
),

final as (
    select
        'customers' as table_name,
        attribute,
        count(*) as count_records,
    from customer_attributes
    group by attribute
    union all
    select
        'deals' as table_name,
        attribute,
        count(*) as count_records,
    from deal_attributes
    group by attribute
)

select * from final
order by table_name, attribute
