-- The run rate of a period so far: net order amount (an order-based business) and won deal
-- amount from the period's start to the as-of date, and how many of its days have passed.
--
-- grain: one row.
-- params: $period_start, $period_end, $as_of (date).
-- definitions: days_elapsed = days from $period_start to the earlier of $period_end and
--   $as_of, both included (0 before the period starts); order_amount = sum of order amounts
--   (returns included) dated in those days, null when the warehouse holds no orders;
--   won_amount likewise over won deals by closed_at's date, null without deals.
-- invariant: days_elapsed >= 0

with

orders as (select * from orders),

deals as (select * from deals),

params as (
    select
        $period_start::date as period_start,
        least($period_end::date, $as_of::date) as window_end,
),

order_totals as (
    select
        count(*) as count_orders,
        sum(orders.amount) filter (
            where orders.order_date between params.period_start and params.window_end
        )::double as order_amount,
    from orders
    cross join params
),

deal_totals as (
    select
        count(*) as count_deals,
        sum(deals.amount) filter (
            where deals.outcome = 'won' and deals.closed_at::date between params.period_start and params.window_end
        )::double as won_amount,
    from deals
    cross join params
),

final as (
    select
        greatest(date_diff('day', params.period_start, params.window_end) + 1, 0) as days_elapsed,
        case when order_totals.count_orders > 0 then coalesce(order_totals.order_amount, 0) end as order_amount,
        case when deal_totals.count_deals > 0 then coalesce(deal_totals.won_amount, 0) end as won_amount,
    from params
    cross join order_totals
    cross join deal_totals
)

select * from final
