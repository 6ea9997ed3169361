-- Funnel leakage: how far the deals created in a period got, as of a date, per group.
--
-- grain: one row per group per configured stage, in funnel order. Groups are the values
--   of the $by dimension among the period's deals ('' when a deal has none); with
--   $by = 'all' there is one group, 'all', present even when the period has no deals.
--   The cohort-level counts (count_cohort_deals, count_skipped_stage_deals,
--   count_backward_move_deals) repeat on every row of a group.
-- params: $period_start, $period_end (date): the period; $as_of (date): states are taken
--   at the end of this day; $stages (varchar[]): the funnel in order, the last one is the
--   won stage ('lost' is never in it); $strict (boolean): false = furthest-stage rule,
--   true = a history row for every stage up to s; $by: all | rep | team | channel | region | tier | pipeline;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (for tier);
--   $pipeline (varchar): only the deals of this pipeline ('' = without one), null = every deal.
-- invariants, per group in funnel order (the first three for the furthest rule only):
-- invariant: $strict or reached - lead(reached) over (
--     partition by group_key order by list_position($stages::varchar[], stage)) = lost_at + open_at + missing_at
-- invariant: $strict or list_position($stages::varchar[], stage) > 1 or reached = count_cohort_deals
-- invariant: $strict or stage <> list_last($stages::varchar[]) or (lost_at = 0 and open_at = 0 and missing_at = 0)
-- invariant: reached <= count_cohort_deals

with

history as (select * from deal_stage_history),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date as as_of_date,
        $as_of::date + interval 1 day as cutoff_at,
        $stages::varchar [] as stages,
        len($stages::varchar []) as won_rank,
        $strict::boolean as is_strict,
        $by::varchar as group_by,
),

deal_groups as (
    select * from deal_groups($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months, $pipeline)
),

stage_list as (
    select
        unnest(stages) as stage,
        generate_subscripts(stages, 1) as stage_rank,
    from params
),

cohort as (
    select
        deals.deal_id,
        deal_groups.group_key,
        list_position(params.stages, deals.stage) as current_rank,
        deals.status_as_of,
    from deals_as_of($as_of) as deals
    cross join params
    inner join deal_groups on deals.deal_id = deal_groups.deal_id
    where deals.created_at::date between params.period_start and params.period_end
),

-- history rows of cohort deals up to the as-of date; 'lost' rows have no rank
ranked_moves as (
    select
        history.deal_id,
        list_position(params.stages, history.stage) as stage_rank,
        lag(list_position(params.stages, history.stage)) over (
            partition by history.deal_id order by history.entered_at, list_position(params.stages, history.stage)
        ) as previous_rank,
    from history
    inner join cohort on history.deal_id = cohort.deal_id
    cross join params
    where history.entered_at < params.cutoff_at
        and list_position(params.stages, history.stage) is not null
),

deal_paths as (
    select
        deal_id,
        max(stage_rank) as max_history_rank,
        list(distinct stage_rank) as history_ranks,
        bool_or(stage_rank < previous_rank) as has_backward_move,
    from ranked_moves
    group by deal_id
),

deals_with_any_history as (
    select distinct history.deal_id from history inner join cohort on history.deal_id = cohort.deal_id
),

deal_state as (
    select
        cohort.deal_id,
        cohort.group_key,
        cohort.status_as_of,
        deal_paths.deal_id is not null as has_history_as_of,
        coalesce(deal_paths.has_backward_move, false) as has_backward_move,
        case
            when cohort.status_as_of = 'won' then params.won_rank
            else least(
                    coalesce(
                        deal_paths.max_history_rank,
                        case when deals_with_any_history.deal_id is null then cohort.current_rank end,
                        1
                    ),
                    params.won_rank - 1
                )
        end as furthest_rank,
        -- ranks the deal has a history row for (won counts once the deal is won)
        case
            when cohort.status_as_of = 'won'
                then list_distinct(list_append(coalesce(deal_paths.history_ranks, []), params.won_rank))
            else coalesce(deal_paths.history_ranks, [])
        end as path_ranks,
        params.won_rank,
    from cohort
    cross join params
    left join deal_paths on cohort.deal_id = deal_paths.deal_id
    left join deals_with_any_history on cohort.deal_id = deals_with_any_history.deal_id
),

deal_rules as (
    select
        *,
        has_history_as_of and len(path_ranks) < furthest_rank as has_skipped_stage,
        -- strict rule: the longest run 1..k of stages with a history row each
        coalesce(
            list_position(
                list_transform(range(1, won_rank + 1), lambda r: list_contains(path_ranks, r)),
                false
            ) - 1,
            won_rank
        ) as strict_rank,
    from deal_state
),

-- the deals with a stage visit that began in the period, up to the as-of date: only their
-- history is ordered below (a visit's end is the deal's next history row, whenever it is)
period_visit_deals as (
    select distinct history.deal_id,
    from history
    cross join params
    where history.entered_at::date between params.period_start and params.period_end
        and history.entered_at < params.cutoff_at
),

-- stage visits of those deals (the next history row of each), any deal of the period
visits as (
    select
        history.deal_id,
        history.stage,
        history.entered_at,
        lead(history.entered_at) over (
            partition by history.deal_id
            order by history.entered_at, coalesce(list_position(params.stages, history.stage), 0)
        ) as next_entered_at,
    from history
    cross join params
    semi join period_visit_deals on history.deal_id = period_visit_deals.deal_id
),

visit_days as (
    select
        deal_groups.group_key,
        visits.stage,
        date_diff(
            'day',
            visits.entered_at::date,
            case
                when visits.next_entered_at < params.cutoff_at then visits.next_entered_at::date
                when deals.outcome in ('won', 'lost') and deals.closed_at < params.cutoff_at
                    and deals.closed_at >= visits.entered_at then deals.closed_at::date
                else params.as_of_date
            end
        ) as days_in_stage,
    from visits
    cross join params
    inner join deal_groups on visits.deal_id = deal_groups.deal_id
    left join deals on visits.deal_id = deals.deal_id
    where visits.entered_at::date between params.period_start and params.period_end
        and visits.entered_at < params.cutoff_at
),

groups as (
    select group_key from cohort
    union
    select group_key from visit_days
    union
    select 'all' from params where group_by = 'all'
),

cohort_counts as (
    select
        groups.group_key,
        count(deal_rules.deal_id) as count_cohort_deals,
        count(deal_rules.deal_id) filter (where deal_rules.has_skipped_stage) as count_skipped_stage_deals,
        count(deal_rules.deal_id) filter (where deal_rules.has_backward_move) as count_backward_move_deals,
    from groups
    left join deal_rules on groups.group_key = deal_rules.group_key
    group by groups.group_key
),

stage_counts as (
    select
        groups.group_key,
        stage_list.stage,
        stage_list.stage_rank,
        count(deal_rules.deal_id) filter (
            where case when params.is_strict then deal_rules.strict_rank else deal_rules.furthest_rank end
            >= stage_list.stage_rank
        ) as reached,
        count(deal_rules.deal_id) filter (
            where deal_rules.status_as_of = 'lost' and deal_rules.furthest_rank = stage_list.stage_rank
        ) as lost_at,
        count(deal_rules.deal_id) filter (
            where deal_rules.status_as_of = 'open' and deal_rules.furthest_rank = stage_list.stage_rank
        ) as open_at,
        count(deal_rules.deal_id) filter (
            where deal_rules.status_as_of = 'missing' and deal_rules.furthest_rank = stage_list.stage_rank
        ) as missing_at,
    from groups
    cross join stage_list
    cross join params
    left join deal_rules on groups.group_key = deal_rules.group_key
    group by groups.group_key, stage_list.stage, stage_list.stage_rank
),

stage_days as (
    select
        group_key,
        stage,
        count(*) as count_visits,
        quantile_cont(days_in_stage, 0.1) as p10_days_in_stage,
        quantile_cont(days_in_stage, 0.25) as p25_days_in_stage,
        quantile_cont(days_in_stage, 0.5) as median_days_in_stage,
        quantile_cont(days_in_stage, 0.75) as p75_days_in_stage,
        quantile_cont(days_in_stage, 0.9) as p90_days_in_stage,
    from visit_days
    group by group_key, stage
),

final as (
    select
        stage_counts.group_key,
        stage_counts.stage,
        stage_counts.stage_rank,
        stage_counts.reached,
        stage_counts.lost_at,
        stage_counts.open_at,
        stage_counts.missing_at,
        -- the won stage is terminal: no time "in" it
        case when stage_counts.stage_rank < params.won_rank then stage_days.median_days_in_stage end
            as median_days_in_stage,
        case when stage_counts.stage_rank < params.won_rank then stage_days.p75_days_in_stage end
            as p75_days_in_stage,
        -- the distribution of days in stage (box plots): visits begun in the period
        case when stage_counts.stage_rank < params.won_rank then coalesce(stage_days.count_visits, 0) else 0 end
            as count_visits,
        case when stage_counts.stage_rank < params.won_rank then stage_days.p10_days_in_stage end
            as p10_days_in_stage,
        case when stage_counts.stage_rank < params.won_rank then stage_days.p25_days_in_stage end
            as p25_days_in_stage,
        case when stage_counts.stage_rank < params.won_rank then stage_days.p90_days_in_stage end
            as p90_days_in_stage,
        cohort_counts.count_cohort_deals,
        cohort_counts.count_skipped_stage_deals,
        cohort_counts.count_backward_move_deals,
    from stage_counts
    cross join params
    inner join cohort_counts on stage_counts.group_key = cohort_counts.group_key
    left join stage_days
        on stage_counts.group_key = stage_days.group_key and stage_counts.stage = stage_days.stage
)

select * from final
order by group_key, stage_rank
