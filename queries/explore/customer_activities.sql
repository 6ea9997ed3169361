-- One customer's activities up to the as-of date, latest first: a drill-down table.
--
-- grain: one row per activity of $customer_id on or before the as-of date; at most
--   $row_limit rows, latest first (ties: activity_id).
-- params: $customer_id (varchar); $as_of (date); $row_limit (integer).
-- columns: activity_id, occurred_at, kind, rep_id, deal_id, count_activities (all of them).

with

activities as (select * from activities),

of_customer as (
    select activity_id, occurred_at, kind, rep_id, deal_id,
    from activities
    where customer_id = $customer_id::varchar
        and occurred_at < $as_of::date + interval 1 day
),

final as (
    select
        *,
        count(*) over () as count_activities,
    from of_customer
)

select * from final
order by occurred_at desc, activity_id asc
limit $row_limit
