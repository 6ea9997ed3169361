-- Stage entries read from the times deals left a stage (HubSpot's "Date exited" columns).
-- The rows of temp table stage_exits (deal_id, stage = the stage left, entered_at = when it
-- was left) come from one export; the stage history holds what its "Date entered" columns said.
-- grain: one row per deal whose last exit is later than every stage it entered, and whose
--   current stage differs from the stage it left then: (deal_id, stage = its current stage,
--   entered_at = that exit), the entry into the current stage that no column recorded.
-- invariant: at most one row per deal_id

with

deals as (select * from deals),

history as (select * from deal_stage_history),

exits as (select * from stage_exits),

last_exit as (
    select
        exits.deal_id,
        exits.stage as stage_left,
        exits.entered_at as exited_at,
    from exits
    qualify row_number() over (partition by exits.deal_id order by exits.entered_at desc, exits.stage asc) = 1
),

last_entry as (
    select
        history.deal_id,
        max(history.entered_at) as last_entered_at,
    from history
    group by history.deal_id
),

final as (
    select
        last_exit.deal_id,
        deals.stage,
        last_exit.exited_at as entered_at,
    from last_exit
    inner join deals on last_exit.deal_id = deals.deal_id
    left join last_entry on last_exit.deal_id = last_entry.deal_id
    where deals.stage <> last_exit.stage_left
        and (last_entry.last_entered_at is null or last_exit.exited_at > last_entry.last_entered_at)
)

select * from final
