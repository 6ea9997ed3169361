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
        reached.status_as_of as outcome,
        case when per_pipeline then reached.pipeline else '' end as model_pipeline,
        date_diff('day', reached.entered_date, reached.closed_date) as days_to_close,
    from deal_stages_reached(history_ends, stage_list, history_starts) as reached
    where reached.stage_rank < len(stage_list);

-- The forecast's model counted (forecast_model_deals): how many model deals closed, won or
-- lost, how many days after entering a stage, for several windows at once (history_starts,
-- history_ends: one per point, point_id = the position in the lists); each distinct window
-- is counted once for the points that share it.
-- grain: one row per point per model pipeline per stage below won per outcome per
--   days_to_close among its model deals; count_deals > 0.
create or replace temp macro forecast_model_counts(history_starts, history_ends, stage_list, per_pipeline) as table
    with
    point_windows as (
        select
            generate_subscripts(history_starts, 1) as point_id,
            unnest(history_starts)::date as history_start,
            unnest(history_ends)::date as history_end,
    ),

    windows as (
        select
            row_number() over (order by history_start, history_end) as window_id,
            history_start,
            history_end,
        from (select distinct history_start, history_end from point_windows)
    ),

    window_lists as (
        select
            list(history_start order by window_id) as window_starts,
            list(history_end order by window_id) as window_ends,
        from windows
    ),

    window_counts as (
        select
            point_id as window_id,
            model_pipeline,
            stage_rank,
            outcome,
            days_to_close,
            count(*) as count_deals,
        from
            forecast_model_deals(
                (select window_starts from window_lists),
                (select window_ends from window_lists),
                stage_list,
                per_pipeline
            )
        group by all
    )

    select
        point_windows.point_id,
        window_counts.model_pipeline,
        window_counts.stage_rank,
        window_counts.outcome,
        window_counts.days_to_close,
        window_counts.count_deals,
    from point_windows
    inner join windows
        on point_windows.history_start = windows.history_start and point_windows.history_end = windows.history_end
    inner join window_counts on windows.window_id = window_counts.window_id;

-- The deals open at the end of each point's as-of date and each one's probability of closing
-- won in the point's period, from the model deals of its history window (the definitions:
-- queries/metrics/forecast/open_deals.sql, which lists them with their keys at one point;
-- queries/metrics/forecast/backtest.sql takes them at the back-test's points). The lists hold
-- one value per point (forecast_points); points with the same history window share its model
-- (forecast_model_counts). The counts an open deal's probability comes from are differences
-- of the model's counts cumulated over the days to close, looked up at its days in stage.
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
            date_diff('day', reached.entered_date, reached.as_of_date) as days_in_stage,
            reached.pipeline,
            case when per_pipeline then reached.pipeline else '' end as model_pipeline,
            reached.amount,
        from deal_stages_reached(as_of_dates, stage_list, list_transform(as_of_dates, lambda d: null)) as reached
        where reached.stage_rank = reached.furthest_rank
    ),

    model_counts as (
        select * from forecast_model_counts(history_starts, history_ends, stage_list, per_pipeline)
    ),

    model_totals as (
        select point_id, model_pipeline, stage_rank, sum(count_deals) as count_deals,
        from model_counts
        group by point_id, model_pipeline, stage_rank
    ),

    -- the model deals of each point, model pipeline and stage closed (and won) within
    -- days_to_close days of entering it
    model_within as (
        select
            point_id,
            model_pipeline,
            stage_rank,
            days_to_close,
            sum(sum(count_deals)) over stage_days as count_closed_within,
            sum(coalesce(sum(count_deals) filter (where outcome = 'won'), 0)) over stage_days as count_won_within,
        from model_counts
        group by point_id, model_pipeline, stage_rank, days_to_close
        window stage_days as (partition by point_id, model_pipeline, stage_rank order by days_to_close)
    ),

    -- open deals alike in point, model pipeline, stage and days in it share their estimate
    positions as (
        select distinct
            open_deals.point_id,
            open_deals.model_pipeline,
            open_deals.stage_rank,
            open_deals.days_in_stage,
            open_deals.days_in_stage + points.gap_days as days_to_period,
            open_deals.days_in_stage + points.days_left as days_to_period_end,
        from open_deals
        inner join points on open_deals.point_id = points.point_id
    ),

    -- comparable: closed more than days_in_stage days after entering the stage; won in the
    -- period: won within (days_to_period, days_to_period_end] days of entering it
    estimates as (
        select
            positions.point_id,
            positions.model_pipeline,
            positions.stage_rank,
            positions.days_in_stage,
            coalesce(model_totals.count_deals, 0) - coalesce(by_now.count_closed_within, 0) as count_comparable,
            coalesce(by_period_end.count_won_within, 0) - coalesce(by_period.count_won_within, 0)
                as count_won_in_period,
        from positions
        left join model_totals
            on positions.point_id = model_totals.point_id
                and positions.model_pipeline = model_totals.model_pipeline
                and positions.stage_rank = model_totals.stage_rank
        asof left join model_within as by_now
            on positions.point_id = by_now.point_id
                and positions.model_pipeline = by_now.model_pipeline
                and positions.stage_rank = by_now.stage_rank
                and positions.days_in_stage >= by_now.days_to_close
        asof left join model_within as by_period
            on positions.point_id = by_period.point_id
                and positions.model_pipeline = by_period.model_pipeline
                and positions.stage_rank = by_period.stage_rank
                and positions.days_to_period >= by_period.days_to_close
        asof left join model_within as by_period_end
            on positions.point_id = by_period_end.point_id
                and positions.model_pipeline = by_period_end.model_pipeline
                and positions.stage_rank = by_period_end.stage_rank
                and positions.days_to_period_end >= by_period_end.days_to_close
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
