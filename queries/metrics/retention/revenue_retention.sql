-- Gross and net revenue retention of the comparison period's buyers, per group
-- (DESIGN.md "Churn and lifecycle": revenue retention).
--
-- The base is the customers with net order amount > 0 in the comparison period. For each:
-- previous = that amount; this = their net order amount in the period (up to $as_of),
-- floored at 0. grr = sum(min(this, previous)) / sum(previous); nrr = sum(this) / sum(previous).
-- grain: one row per group of base customers; with $by = 'all' one row, 'all', present even
--   when the base is empty (then grr and nrr are null).
-- params: $comparison_start, $comparison_end (date): the comparison period;
--   $period_start, $period_end (date): the period; $as_of (date): nothing after it is seen;
--   $by: all | rep | team | channel | tier | region; $tier_a_share, $tier_b_share, $value_window_months:
--   the ABC tier settings (tiers as of $as_of); $only_group (varchar): only this group of $by, null =
--   every group.
-- columns: count_base_customers, count_retained_customers (this > 0), previous_net_amount,
--   retained_net_amount (sum of min), current_net_amount (sum of this), grr, nrr.
-- invariant: grr between 0 and 1
-- invariant: grr <= nrr
-- invariant: retained_net_amount <= current_net_amount

with

orders as (select * from orders),

params as (
    select
        $comparison_start::date as comparison_start,
        least($comparison_end::date, $as_of::date) as comparison_end,
        $period_start::date as period_start,
        least($period_end::date, $as_of::date) as period_end,
        $by::varchar as group_by,
),

-- the customers of $only_group alone when given
buyer_groups as (
    select *
    from buyer_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months)
    where $only_group::varchar is null or group_key = $only_group::varchar
),

previous_amounts as (
    select orders.customer_id, sum(orders.amount) as previous_net_amount,
    from orders
    cross join params
    where orders.order_date between params.comparison_start and params.comparison_end
    group by orders.customer_id
    having sum(orders.amount) > 0
),

current_amounts as (
    select orders.customer_id, sum(orders.amount) as current_net_amount,
    from orders
    cross join params
    where orders.order_date between params.period_start and params.period_end
    group by orders.customer_id
),

base as (
    select
        buyer_groups.group_key,
        previous_amounts.customer_id,
        previous_amounts.previous_net_amount,
        greatest(coalesce(current_amounts.current_net_amount, 0), 0) as current_net_amount,
    from previous_amounts
    inner join buyer_groups on previous_amounts.customer_id = buyer_groups.customer_id
    left join current_amounts on previous_amounts.customer_id = current_amounts.customer_id
),

groups as (
    select group_key from base
    union
    select 'all' from params where group_by = 'all'
),

sums as (
    select
        groups.group_key,
        count(base.customer_id) as count_base_customers,
        count(base.customer_id) filter (where base.current_net_amount > 0) as count_retained_customers,
        coalesce(sum(base.previous_net_amount), 0) as previous_net_amount,
        coalesce(sum(least(base.current_net_amount, base.previous_net_amount)), 0) as retained_net_amount,
        coalesce(sum(base.current_net_amount), 0) as current_net_amount,
    from groups
    left join base on groups.group_key = base.group_key
    group by groups.group_key
),

final as (
    select
        *,
        retained_net_amount::double / nullif(previous_net_amount, 0)::double as grr,
        current_net_amount::double / nullif(previous_net_amount, 0)::double as nrr,
    from sums
)

select * from final
order by group_key
