-- Shared definitions of the forecast queries (temporary, per connection).

-- The forecast's points: one row per point of the lists given to the macros below (one
-- date or value per point each, point_id = its position, from 1): a forecast, or each of
-- the back-test's, is a point.
create or replace temp macro forecast_points(
    as_of_dates, period_starts, period_ends, history_starts, history_ends
) as table
    select
        *,
        greatest(date_diff('day', as_of_date, period_end), 0) as days_left,
        greatest(date_diff('day', as_of_date, period_start) - 1, 0) as gap_days,
    from (
        select
            generate_subscripts(as_of_dates, 1) as point_id,
            unnest(as_of_dates)::date as as_of_date,
            unnest(period_starts)::date as period_start,
            unnest(period_ends)::date as period_end,
            unnest(history_starts)::date as history_start,
            unnest(history_ends)::date as history_end,
    );

-- The funnel stages some deals had reached at the end of a day, and the day they entered each:
-- the furthest-stage rule of the funnel (queries/metrics/funnel/stages.sql), as of that day,
-- for several days at once (as_of_dates, closed_since_dates: one per point, point_id = the
-- position in the lists). Which deals: with closed_since null, those open at the end of the
-- day (the forecast's open deals); else those won or lost with closed_at's date from
-- closed_since to the day (the model deals of a history window ending that day).
-- grain: one row per point per such deal existing by then (deals_as_of) per funnel stage up
--   to its furthest (stage_rank 1..furthest_rank; a won deal reaches the won stage, the last
--   of stage_list).
--   furthest_rank   highest funnel stage in its history up to the day (lost rows have no
--                   rank), its current stage when it has no history at all, else the first;
--                   a deal won by then is at the won stage, one open or lost below it
--   entered_date    the first day it was in this stage or a later one: its first history row
--                   of a stage this far or further, its created date counting as entering the
--                   first stage, and the day it was won as entering the won stage (created
--                   date when no row says: a deal placed by its current stage alone)
create or replace temp macro deal_stages_reached(as_of_dates, stage_list, closed_since_dates) as table
    with
    reach_points as (
        select
            generate_subscripts(as_of_dates, 1) as point_id,
            unnest(as_of_dates)::date as as_of_date,
            unnest(closed_since_dates)::date as closed_since,
    ),

    existing as (
        select
            reach_points.point_id,
            reach_points.as_of_date,
            state.deal_id,
            state.status_as_of,
            state.created_at::date as created_date,
            state.closed_at::date as closed_date,
            list_position(stage_list, state.stage) as current_rank,
        from reach_points,
            lateral deals_as_of(reach_points.as_of_date) as state
        where (reach_points.closed_since is null and state.status_as_of = 'open')
            or (
                reach_points.closed_since is not null
                and state.status_as_of in ('won', 'lost')
                and state.closed_at::date between reach_points.closed_since and reach_points.as_of_date
            )
    ),

    moves as (
        select
            existing.point_id,
            deal_stage_history.deal_id,
            list_position(stage_list, deal_stage_history.stage) as stage_rank,
            deal_stage_history.entered_at::date as entered_date,
        from deal_stage_history
        inner join existing on deal_stage_history.deal_id = existing.deal_id
        where deal_stage_history.entered_at < existing.as_of_date + interval 1 day
            and list_position(stage_list, deal_stage_history.stage) is not null
    ),

    has_history as (
        select distinct deal_stage_history.deal_id from deal_stage_history
        semi join existing on deal_stage_history.deal_id = existing.deal_id
    ),

    furthest as (
        select
            existing.point_id,
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
        left join moves on existing.point_id = moves.point_id and existing.deal_id = moves.deal_id
        left join has_history on existing.deal_id = has_history.deal_id
        group by existing.point_id, existing.deal_id, existing.status_as_of
    ),

    entries as (
        select point_id, deal_id, stage_rank, entered_date, from moves
        union all
        select point_id, deal_id, 1 as stage_rank, created_date as entered_date, from existing
        union all
        select point_id, deal_id, len(stage_list) as stage_rank, closed_date as entered_date, from existing
        where status_as_of = 'won' and closed_date is not null
    ),

    reached as (
        select
            furthest.point_id,
            furthest.deal_id,
            furthest.furthest_rank,
            unnest(range(1, furthest.furthest_rank + 1)) as stage_rank,
        from furthest
    )

    select
        reached.point_id,
        reached.deal_id,
        reached.stage_rank,
        stage_list[reached.stage_rank] as stage,
        reached.furthest_rank,
        coalesce(min(entries.entered_date), any_value(existing.created_date)) as entered_date,
    from reached
    inner join existing on reached.point_id = existing.point_id and reached.deal_id = existing.deal_id
    left join entries
        on reached.point_id = entries.point_id
            and reached.deal_id = entries.deal_id
            and reached.stage_rank <= entries.stage_rank
    group by reached.point_id, reached.deal_id, reached.stage_rank, reached.furthest_rank;

-- The forecast's model deals: the deals closed (won or lost) in a history window, with the
-- days each took to close from entering each stage below won it reached (deal_stages_reached
-- as of the window's last day), for several windows at once (history_starts, history_ends:
-- one per point, point_id = the position in the lists). model_pipeline is the deal's
-- pipeline ('' without one) when per_pipeline, else '' for every deal
-- (queries/metrics/forecast/stage_model.sql).
-- grain: one row per point per model deal per stage below won it reached.
create or replace temp macro forecast_model_deals(history_starts, history_ends, stage_list, per_pipeline) as table
    select
        reached.point_id,
        reached.stage,
        reached.stage_rank,
        deals.outcome,
        case when per_pipeline then coalesce(deals.pipeline, '') else '' end as model_pipeline,
        date_diff('day', reached.entered_date, deals.closed_at::date) as days_to_close,
    from deal_stages_reached(history_ends, stage_list, history_starts) as reached
    inner join deals on reached.deal_id = deals.deal_id
    where reached.stage_rank < len(stage_list);

-- The deals open at the end of each point's as-of date and each one's probability of closing
-- won in the point's period, from the model deals of its history window (the definitions:
-- queries/metrics/forecast/open_deals.sql, which lists them with their keys at one point;
-- queries/metrics/forecast/backtest.sql takes them at the back-test's points). The lists hold
-- one value per point (forecast_points); points with the same history window share its model.
-- grain: one row per point per open deal.
create or replace temp macro forecast_open_deals(
    as_of_dates, period_starts, period_ends, history_starts, history_ends, stage_list, per_pipeline
) as table
    with
    points as (
        select * from forecast_points(as_of_dates, period_starts, period_ends, history_starts, history_ends)
    ),

    open_deals as (
        select
            reached.point_id,
            reached.deal_id,
            reached.stage,
            reached.stage_rank,
            reached.entered_date,
            date_diff('day', reached.entered_date, points.as_of_date) as days_in_stage,
            coalesce(deals.pipeline, '') as pipeline,
            case when per_pipeline then coalesce(deals.pipeline, '') else '' end as model_pipeline,
            deals.amount::double as amount,
        from deal_stages_reached(as_of_dates, stage_list, list_transform(as_of_dates, lambda d: null)) as reached
        inner join points on reached.point_id = points.point_id
        inner join deals on reached.deal_id = deals.deal_id
        where reached.stage_rank = reached.furthest_rank
    ),

    -- the distinct history windows, each modelled once
    windows as (
        select
            row_number() over (order by history_start, history_end) as window_id,
            history_start,
            history_end,
        from (select distinct history_start, history_end from points)
    ),

    window_lists as (
        select
            list(history_start order by window_id) as window_starts,
            list(history_end order by window_id) as window_ends,
        from windows
    ),

    model_counts as (
        select
            model_window.history_start,
            model_window.history_end,
            model_deals.model_pipeline,
            model_deals.stage_rank,
            model_deals.outcome,
            model_deals.days_to_close,
            count(*) as count_deals,
        from
            forecast_model_deals(
                (select window_starts from window_lists),
                (select window_ends from window_lists),
                stage_list,
                per_pipeline
            ) as model_deals
        inner join windows as model_window on model_deals.point_id = model_window.window_id
        group by all
    ),

    -- open deals alike in point, model pipeline, stage and days in it share their estimate
    positions as (
        select distinct point_id, model_pipeline, stage_rank, days_in_stage, from open_deals
    ),

    estimates as (
        select
            positions.point_id,
            positions.model_pipeline,
            positions.stage_rank,
            positions.days_in_stage,
            coalesce(sum(model_counts.count_deals) filter (
                where model_counts.days_to_close > positions.days_in_stage
            ), 0) as count_comparable,
            coalesce(sum(model_counts.count_deals) filter (
                where model_counts.outcome = 'won'
                and model_counts.days_to_close > positions.days_in_stage + points.gap_days
                and model_counts.days_to_close <= positions.days_in_stage + points.days_left
            ), 0) as count_won_in_period,
        from positions
        inner join points on positions.point_id = points.point_id
        left join model_counts
            on points.history_start = model_counts.history_start
                and points.history_end = model_counts.history_end
                and positions.model_pipeline = model_counts.model_pipeline
                and positions.stage_rank = model_counts.stage_rank
        group by positions.point_id, positions.model_pipeline, positions.stage_rank, positions.days_in_stage
    ),

    won_in_history as (
        select
            points.point_id,
            coalesce(deals.pipeline, '') as pipeline,
            deals.amount::double as amount,
        from deals
        inner join points on deals.closed_at::date between points.history_start and points.history_end
        where deals.outcome = 'won' and deals.amount > 0
    ),

    won_amounts as (
        select point_id, pipeline, avg(amount) as mean_won_amount, from won_in_history group by point_id, pipeline
    ),

    every_pipeline as (
        select points.point_id, avg(won_in_history.amount) as mean_won_amount,
        from points
        left join won_in_history on points.point_id = won_in_history.point_id
        group by points.point_id
    )

    select
        open_deals.point_id,
        open_deals.deal_id,
        open_deals.pipeline,
        open_deals.stage,
        open_deals.stage_rank,
        open_deals.entered_date,
        open_deals.days_in_stage,
        open_deals.amount,
        estimates.count_comparable,
        estimates.count_won_in_period,
        estimates.count_comparable > 0 as has_basis,
        coalesce(open_deals.amount <= 0, true) as is_amount_imputed,
        coalesce(estimates.count_won_in_period / nullif(estimates.count_comparable, 0), 0)::double as probability,
        case
            when open_deals.amount > 0 then open_deals.amount
            else coalesce(own_pipeline.mean_won_amount, every_pipeline.mean_won_amount)
        end as amount_used,
    from open_deals
    inner join estimates
        on open_deals.point_id = estimates.point_id
            and open_deals.model_pipeline = estimates.model_pipeline
            and open_deals.stage_rank = estimates.stage_rank
            and open_deals.days_in_stage = estimates.days_in_stage
    inner join every_pipeline on open_deals.point_id = every_pipeline.point_id
    left join won_amounts as own_pipeline
        on open_deals.point_id = own_pipeline.point_id and open_deals.pipeline = own_pipeline.pipeline;

-- The won deals with the group each falls in for a forecast breakdown: group_by is all | rep |
-- team (the deal's owner rep, that rep's team); a deal without one is in group ''.
-- grain: one row per won deal.
create or replace temp macro forecast_won_deals(group_by) as table
    select
        deals.deal_id,
        coalesce(
            case group_by
                when 'all' then 'all'
                when 'rep' then deals.owner_rep_id
                when 'team' then reps.team
            end,
            ''
        ) as group_key,
        deals.amount,
        deals.created_at::date as created_date,
        deals.closed_at::date as closed_date,
    from deals
    left join reps on deals.owner_rep_id = reps.rep_id
    where deals.outcome = 'won';

-- What deals not yet created at the end of each point's as-of date should still win within
-- its period, per group of group_by (all | rep | team): the definitions are in
-- queries/metrics/forecast/new_deals.sql, which lists them at one point;
-- queries/metrics/forecast/backtest.sql takes them at the back-test's points. The lists hold
-- one value per point (forecast_points).
-- grain: one row per point per group among its model deals; with group_by = 'all' exactly one
--   row per point.
create or replace temp macro forecast_new_deals(
    as_of_dates, period_starts, period_ends, history_starts, history_ends, group_by
) as table
    with
    points as (
        select
            *,
            date_diff('day', history_start, history_end) + 1 - days_left as days_in_window,
        from forecast_points(as_of_dates, period_starts, period_ends, history_starts, history_ends)
    ),

    model_deals as (
        select
            points.point_id,
            won.group_key,
            won.amount::double as amount,
            date_diff('day', won.created_date, won.closed_date) as cycle_days,
        from forecast_won_deals(group_by) as won
        inner join points
            on won.created_date >= points.history_start
                and won.created_date < points.history_start + to_days(points.days_in_window)
                and date_diff('day', won.created_date, won.closed_date) <= points.days_left
    ),

    counted as (
        select
            model_deals.point_id,
            model_deals.group_key,
            model_deals.amount,
            greatest(
                points.days_left - model_deals.cycle_days
                - greatest(1, points.gap_days + 1 - model_deals.cycle_days) + 1,
                0
            ) as count_days,
        from model_deals
        inner join points on model_deals.point_id = points.point_id
    ),

    groups as (
        select point_id, group_key from counted
        union
        select point_id, 'all' as group_key from points where group_by = 'all'
    )

    select
        groups.point_id,
        groups.group_key,
        count(counted.amount) as count_model_deals,
        case
            when any_value(points.days_in_window) > 0
                then coalesce(sum(counted.amount * counted.count_days), 0) / any_value(points.days_in_window)
        end as expected_amount,
    from groups
    inner join points on groups.point_id = points.point_id
    left join counted on groups.point_id = counted.point_id and groups.group_key = counted.group_key
    group by groups.point_id, groups.group_key;
