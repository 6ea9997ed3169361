-- Shared definitions of the forecast queries (temporary, per connection).

-- The funnel stages each deal had reached at the end of a day, and the day it entered each:
-- the furthest-stage rule of the funnel (queries/metrics/funnel/stages.sql), as of that day.
-- grain: one row per deal existing by then (deals_as_of) per funnel stage up to its furthest
--   (stage_rank 1..furthest_rank; a won deal reaches the won stage, the last of stage_list).
--   furthest_rank   highest funnel stage in its history up to the day (lost rows have no
--                   rank), its current stage when it has no history at all, else the first;
--                   a deal won by then is at the won stage, one open or lost below it
--   entered_date    the first day it was in this stage or a later one: its first history row
--                   of a stage this far or further, its created date counting as entering the
--                   first stage, and the day it was won as entering the won stage (created
--                   date when no row says: a deal placed by its current stage alone)
create or replace temp macro deal_stages_reached(as_of_date, stage_list) as table
    with
    existing as (
        select
            deal_id,
            status_as_of,
            created_at::date as created_date,
            closed_at::date as closed_date,
            list_position(stage_list, stage) as current_rank,
        from deals_as_of(as_of_date)
    ),

    moves as (
        select
            deal_stage_history.deal_id,
            list_position(stage_list, deal_stage_history.stage) as stage_rank,
            deal_stage_history.entered_at::date as entered_date,
        from deal_stage_history
        inner join existing on deal_stage_history.deal_id = existing.deal_id
        where deal_stage_history.entered_at < as_of_date::date + interval 1 day
            and list_position(stage_list, deal_stage_history.stage) is not null
    ),

    has_history as (
        select distinct deal_stage_history.deal_id from deal_stage_history
    ),

    furthest as (
        select
            existing.deal_id,
            case
                when existing.status_as_of = 'won' then len(stage_list)
                else least(
                        coalesce(
                            max(moves.stage_rank),
                            any_value(case when has_history.deal_id is null then existing.current_rank end),
                            1
                        ),
                        len(stage_list) - 1
                    )
            end as furthest_rank,
        from existing
        left join moves on existing.deal_id = moves.deal_id
        left join has_history on existing.deal_id = has_history.deal_id
        group by existing.deal_id, existing.status_as_of
    ),

    entries as (
        select deal_id, stage_rank, entered_date, from moves
        union all
        select deal_id, 1 as stage_rank, created_date as entered_date, from existing
        union all
        select deal_id, len(stage_list) as stage_rank, closed_date as entered_date, from existing
        where status_as_of = 'won' and closed_date is not null
    ),

    reached as (
        select
            furthest.deal_id,
            furthest.furthest_rank,
            unnest(range(1, furthest.furthest_rank + 1)) as stage_rank,
        from furthest
    )

    select
        reached.deal_id,
        reached.stage_rank,
        stage_list[reached.stage_rank] as stage,
        reached.furthest_rank,
        coalesce(min(entries.entered_date), any_value(existing.created_date)) as entered_date,
    from reached
    inner join existing on reached.deal_id = existing.deal_id
    left join entries on reached.deal_id = entries.deal_id and reached.stage_rank <= entries.stage_rank
    group by reached.deal_id, reached.stage_rank, reached.furthest_rank;
