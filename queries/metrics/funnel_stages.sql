-- Funnel leakage: how far the deals created in a period got, as of a date.
--
-- grain: one row per configured stage, in funnel order. The cohort-level counts
--   (count_cohort_deals, count_skipped_stage_deals, count_backward_move_deals) are the same
--   on every row.
-- params: $period_start, $period_end (date): the period; $as_of (date): states are taken
--   at the end of this day; $stages (varchar[]): the funnel in order, the last one is the
--   won stage ('lost' is never in it); $strict (boolean): false = furthest-stage rule,
--   true = a history row for every stage up to s.
-- invariants (furthest rule): reached(s) - reached(next) = lost_at(s) + open_at(s);
--   reached(first) = count_cohort_deals; lost_at(won) = open_at(won) = 0.

with

deals as (select * from deals),

history as (select * from deal_stage_history),

params as (
    select
        $period_start::date as period_start,
        $period_end::date as period_end,
        $as_of::date as as_of_date,
        $as_of::date + interval 1 day as cutoff_at,
        $stages::varchar[] as stages,
        len($stages::varchar[]) as won_rank,
        $strict::boolean as is_strict,
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
        list_position(params.stages, deals.stage) as current_rank,
        case
            when deals.outcome = 'open' then 'open'
            when deals.closed_at is null or deals.closed_at < params.cutoff_at then deals.outcome
            else 'open'
        end as status_as_of,
    from deals
    cross join params
    where deals.created_at::date between params.period_start and params.period_end
        and deals.created_at < params.cutoff_at
),

-- history rows of cohort deals up to the as-of date; 'lost' rows have no rank
cohort_history as (
    select
        history.deal_id,
        list_position(params.stages, history.stage) as stage_rank,
        history.entered_at,
    from history
    inner join cohort on history.deal_id = cohort.deal_id
    cross join params
    where history.entered_at < params.cutoff_at
),

ranked_moves as (
    select
        deal_id,
        stage_rank,
        lag(stage_rank) over (partition by deal_id order by entered_at, stage_rank) as previous_rank,
    from cohort_history
    where stage_rank is not null
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

cohort_counts as (
    select
        count(*) as count_cohort_deals,
        count(*) filter (where has_skipped_stage) as count_skipped_stage_deals,
        count(*) filter (where has_backward_move) as count_backward_move_deals,
    from deal_rules
),

stage_counts as (
    select
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
    from stage_list
    cross join params
    left join deal_rules on true
    group by stage_list.stage, stage_list.stage_rank
),

-- stage visits that began in the period (any deal), up to the as-of date
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
),

visit_days as (
    select
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
    left join deals on visits.deal_id = deals.deal_id
    where visits.entered_at::date between params.period_start and params.period_end
        and visits.entered_at < params.cutoff_at
),

stage_days as (
    select
        stage,
        quantile_cont(days_in_stage, 0.5) as median_days_in_stage,
        quantile_cont(days_in_stage, 0.75) as p75_days_in_stage,
        count(*) as count_visits,
    from visit_days
    group by stage
),

final as (
    select
        stage_counts.stage,
        stage_counts.stage_rank,
        stage_counts.reached,
        stage_counts.lost_at,
        stage_counts.open_at,
        -- the won stage is terminal: no time "in" it
        case when stage_counts.stage_rank < params.won_rank then stage_days.median_days_in_stage end
            as median_days_in_stage,
        case when stage_counts.stage_rank < params.won_rank then stage_days.p75_days_in_stage end
            as p75_days_in_stage,
        cohort_counts.count_cohort_deals,
        cohort_counts.count_skipped_stage_deals,
        cohort_counts.count_backward_move_deals,
    from stage_counts
    cross join params
    cross join cohort_counts
    left join stage_days on stage_counts.stage = stage_days.stage
)

select * from final
order by stage_rank
