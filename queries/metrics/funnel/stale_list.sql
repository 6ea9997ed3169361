-- The funnel's stale deals: how many and how much, and the first $list_length of them (the
-- stale_deals.sql definition and order; stale_deals.sql lists them all).
--
-- grain: one row per listed stale deal (at most $list_length), largest amount first (ties:
--   longest without change, then deal_id); count_stale_deals and stale_amount repeat the
--   totals over every stale deal on each row.
-- params: $as_of (date); $stale_days (integer); $pipeline (varchar): only the deals of this
--   pipeline ('' = without one), null = every deal; $list_length (integer).
-- columns: deal_id, customer_id, owner_rep_id, stage, amount, last_change_date,
--   days_since_change, stale_rank (1..), count_stale_deals, stale_amount.
-- invariant: days_since_change >= $stale_days
-- invariant: stale_rank <= least(count_stale_deals, $list_length)

with

stale as (select * from stale_deals($as_of, $stale_days, $pipeline)),

final as (
    select
        *,
        row_number() over (order by amount desc nulls last, days_since_change desc, deal_id asc) as stale_rank,
        count(*) over () as count_stale_deals,
        coalesce(sum(amount) over (), 0) as stale_amount,
    from stale
    qualify stale_rank <= $list_length::integer
)

select * from final
order by stale_rank
