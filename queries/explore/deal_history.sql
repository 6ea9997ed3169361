-- One deal's stage history up to the as-of date: the last step of the drill-down from a rep.
--
-- grain: one row per history row of $deal_id entered on or before the as-of date, in order.
-- params: $deal_id (varchar); $as_of (date); $row_limit (integer).
-- columns: stage, entered_at, left_at (when the next row was entered; null for the current
--   stage), days_in_stage (to the next row, or to the as-of date for the current stage), and
--   the deal's own fields: deal_stage, outcome, amount, created_at, closed_at, lost_reason.
-- invariant: days_in_stage >= 0

with

history as (select * from deal_stage_history),

deals as (select * from deals),

params as (
    select
        $deal_id::varchar as deal_id,
        $as_of::date as as_of_date,
        $as_of::date + interval 1 day as cutoff_at,
),

rows_of_deal as (
    select
        history.stage,
        history.entered_at,
        lead(history.entered_at) over (order by history.entered_at asc, history.stage asc) as left_at,
    from history
    cross join params
    where history.deal_id = params.deal_id
        and history.entered_at < params.cutoff_at
),

final as (
    select
        rows_of_deal.stage,
        rows_of_deal.entered_at,
        rows_of_deal.left_at,
        date_diff(
            'day', rows_of_deal.entered_at::date, coalesce(rows_of_deal.left_at::date, params.as_of_date)
        ) as days_in_stage,
        deals.stage as deal_stage,
        deals.outcome,
        deals.amount,
        deals.created_at,
        deals.closed_at,
        deals.lost_reason,
    from rows_of_deal
    cross join params
    left join deals on params.deal_id = deals.deal_id
)

select * from final
order by entered_at asc, stage asc
limit $row_limit
