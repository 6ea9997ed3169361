-- The funnel stages deals had reached at the end of given days, and when they entered each: the
-- forecast's open deals at its points and model deals of its history windows
-- (queries/macros/forecast.sql), temporary, per connection. They read the tables only (this
-- file is installed before deals.sql).

-- The deals some points read at the end of their day, for several points at once (as_of_dates,
-- closed_since_dates: one per point, point_id = the position in the lists). Which deals: with
-- closed_since null, those open at the end of the day (the forecast's open deals); else those
-- won or lost with closed_at's date from closed_since to the day (the model deals of a history
-- window ending that day). The states are deals_as_of's (queries/macros/deals.sql) written as
-- conditions on each point's day, so that one join reads every point rather than a scan of
-- the deals per point: open = created by then, not closed by then (won or lost with closed_at
-- after the day) and not missing.
-- grain: one row per point per such deal existing by then (created_at on or before the day):
--   its state (status_as_of: open | won | lost, as deals_as_of's) and the columns of deals
--   the forecast reads (pipeline: '' for the deals without one).
create or replace temp macro deals_at_points(as_of_dates, closed_since_dates) as table
    with
    reach_points as (
        select
            generate_subscripts(as_of_dates, 1) as point_id,
            unnest(as_of_dates)::date as as_of_date,
            unnest(closed_since_dates)::date as closed_since,
    )

    select
        reach_points.point_id,
        reach_points.as_of_date,
        deals.deal_id,
        case when reach_points.closed_since is null then 'open' else deals.outcome end as status_as_of,
        deals.stage,
        coalesce(deals.pipeline, '') as pipeline,
        deals.amount::double as amount,
        deals.created_at::date as created_date,
        deals.closed_at::date as closed_date,
    from reach_points
    inner join deals on deals.created_at < reach_points.as_of_date + interval 1 day
    where (
        reach_points.closed_since is null
        and (deals.outcome = 'open' or deals.closed_at >= reach_points.as_of_date + interval 1 day)
        and not coalesce(deals.missing_since <= reach_points.as_of_date, false)
    )
    or (
        reach_points.closed_since is not null
        and deals.outcome <> 'open'
        and deals.closed_at::date between reach_points.closed_since and reach_points.as_of_date
    );

-- The funnel stages some deals had reached at the end of a day, and the day they entered each:
-- the furthest-stage rule of the funnel (queries/metrics/funnel/stages.sql), as of that day,
-- for several days at once (as_of_dates, closed_since_dates: one per point, point_id = the
-- position in the lists; the deals are deals_at_points'). The history is read in one
-- pass: each deal's rows in two lists (their ranks, when they were entered), which each point
-- filters to the rows up to its day; no join of the history per point.
-- grain: one row per point per such deal existing by then per funnel stage up to its furthest
--   (stage_rank 1..furthest_rank; a won deal reaches the won stage, the last of stage_list).
--   furthest_rank   highest funnel stage in its history up to the day (lost rows have no
--                   rank), its current stage when it has no history at all, else the first;
--                   a deal won by then is at the won stage, one open or lost below it
--   entered_date    the first day it was in this stage or a later one: its first history row
--                   of a stage this far or further, its created date counting as entering the
--                   first stage, and the day it was won as entering the won stage (created
--                   date when no row says: a deal placed by its current stage alone)
--   as_of_date, status_as_of, pipeline, amount, closed_date   deals_at_points'
create or replace temp macro deal_stages_reached(as_of_dates, stage_list, closed_since_dates) as table
    with
    existing as (select * from deals_at_points(as_of_dates, closed_since_dates)),

    -- each deal's history rows: the funnel rank of each (null for lost rows) and when it was
    -- entered, in two lists of the same order
    deal_history as (
        select
            history.deal_id,
            list(list_position(stage_list, history.stage)) as history_ranks,
            list(history.entered_at) as history_entered_at,
        from deal_stage_history as history
        semi join existing on history.deal_id = existing.deal_id
        group by history.deal_id
    ),

    deal_history_as_of as (
        select
            existing.*,
            deal_history.deal_id is not null as has_history,
            coalesce(deal_history.history_ranks, []) as all_ranks,
            coalesce(deal_history.history_entered_at, []) as history_entered_at,
        from existing
        left join deal_history on existing.deal_id = deal_history.deal_id
    ),

    -- the ranks of the rows up to each point's day (null for the later rows; all of them when
    -- the deal has none later)
    ranks_as_of as (
        select
            *,
            case
                when coalesce(list_max(history_entered_at) < as_of_date + interval 1 day, true) then all_ranks
                else list_transform(
                        range(1, len(all_ranks) + 1),
                        lambda i: case when history_entered_at[i] < as_of_date + interval 1 day then all_ranks[i] end
                    )
            end as history_ranks,
        from deal_history_as_of
    ),

    reached as (
        select
            *,
            unnest(range(1, furthest_rank + 1)) as stage_rank,
        from (
            select
                *,
                case
                    when status_as_of = 'won' then len(stage_list)
                    else least(
                            coalesce(
                                list_max(history_ranks),
                                case when not has_history then list_position(stage_list, stage) end,
                                1
                            ),
                            len(stage_list) - 1
                        )
                end as furthest_rank,
            from ranks_as_of
        )
    )

    select
        point_id,
        as_of_date,
        deal_id,
        status_as_of,
        pipeline,
        amount,
        closed_date,
        stage_rank,
        stage_list[stage_rank] as stage,
        furthest_rank,
        -- entering it: its history rows of this stage or a later one, the created date (the
        -- first stage) and the day it was won (the won stage)
        coalesce(
            least(
                list_min(
                    list_filter(history_entered_at, lambda entered_at, i: history_ranks[i] >= stage_rank)
                )::date,
                case when stage_rank = 1 then created_date end,
                case when status_as_of = 'won' then closed_date end
            ),
            created_date
        ) as entered_date,
    from reached;
