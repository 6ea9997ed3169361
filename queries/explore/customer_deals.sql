-- One customer's deals as of the as-of date, latest first: a drill-down table.
--
-- grain: one row per deal of $customer_id created on or before the as-of date (deals_as_of,
--   queries/macros/deals.sql); at most $row_limit rows, latest created first (ties: deal_id).
-- params: $customer_id (varchar); $as_of (date); $row_limit (integer).
-- columns: deal_id, owner_rep_id, pipeline, stage, status_as_of, amount, created_date,
--   closed_date, count_deals (all of them).

with

of_customer as (
    select
        deal_id,
        owner_rep_id,
        pipeline,
        stage,
        status_as_of,
        amount,
        created_at,
        closed_at,
    from deals_as_of($as_of)
    where customer_id = $customer_id::varchar
),

final as (
    select
        deal_id,
        owner_rep_id,
        pipeline,
        stage,
        status_as_of,
        amount,
        created_at::date as created_date,
        case when status_as_of = 'open' then null else closed_at::date end as closed_date,
        count(*) over () as count_deals,
        created_at,
    from of_customer
)

select * exclude (created_at) from final
order by created_at desc, deal_id asc
limit $row_limit
