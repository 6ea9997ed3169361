-- Funnel leakage: how far the deals created in a period got, as of a date, per group, for
-- several periods in one pass (the trend), each with the overall funnel beside its groups.
--
-- grain: one row per period (period_id: its position in the period lists, from 1) per group
--   per configured stage, in funnel order. Each period has the overall group (is_overall,
--   group_key 'all'), present even when the period has no deals; with $by other than 'all'
--   the groups follow (not is_overall): the values of the $by dimension among the period's
--   deals ('' when a deal has none). The cohort-level counts (count_cohort_deals,
--   count_skipped_stage_deals, count_backward_move_deals) repeat on every row of a group.
-- params: one per period, in the same order: $period_starts, $period_ends (date[]): the
--   period; $as_of_dates (date[]): its states are taken at the end of this day;
--   $as_of (date): the day the groups are taken at (the customer's tier for $by = tier);
--   $stages (varchar[]): the funnel in order, the last one is the
--   won stage ('lost' is never in it); $strict (boolean): false = furthest-stage rule,
--   true = a history row for every stage up to s; $by: all | rep | team | channel | region | tier | pipeline;
--   $tier_a_share, $tier_b_share, $value_window_months: the ABC tier settings (for tier);
--   $pipeline (varchar): only the deals of this pipeline ('' = without one), null = every deal;
--   $only_group (varchar): only this group of $by (no overall group, no other group), null = all.
-- definitions: a period's numbers are those of the period alone (its cohort, its visits, as
--   of its own date); the stage history is ordered once for all periods: a deal's previous
--   row before a period's as-of date is the same whatever later rows it has.
-- invariants, per period and group in funnel order (the first three for the furthest rule only):
-- invariant: $strict or reached - lead(reached) over (
--     partition by period_id, is_overall, group_key order by list_position($stages::varchar[], stage))
--     = lost_at + open_at + missing_at
-- invariant: $strict or list_position($stages::varchar[], stage) > 1 or reached = count_cohort_deals
-- invariant: $strict or stage <> list_last($stages::varchar[]) or (lost_at = 0 and open_at = 0 and missing_at = 0)
-- invariant: reached <= count_cohort_deals
-- invariant: period_id between 1 and len($period_starts)
-- invariant: count_cohort_deals <= max(count_cohort_deals) filter (where is_overall) over (partition by period_id)
-- invariant: is_overall or $by <> 'all'

with

history as (select * from deal_stage_history),

params as (
    select
        $stages::varchar [] as stages,
        len($stages::varchar []) as won_rank,
        $strict::boolean as is_strict,
),

periods as (select * from period_list($period_starts, $period_ends, $as_of_dates)),

-- every deal (of the pipeline) in the overall group, and in its $by group beside it (only
-- the deals of $only_group in it, when given)
deal_keys as (
    select *
    from deal_groups_and_all($by, $as_of, $tier_a_share, $tier_b_share, $value_window_months, $pipeline)
    where $only_group::varchar is null or (not is_overall and group_key = $only_group::varchar)
),

stage_list as (
    select
        unnest(stages) as stage,
        generate_subscripts(stages, 1) as stage_rank,
    from params
),

-- the deals created in each period, with their state at its as-of date
cohort as (
    select
        periods.period_id,
        deals.deal_id,
        list_position(params.stages, deals.stage) as current_rank,
        deals.status_as_of,
    from periods
    cross join lateral deals_as_of(periods.as_of_date) as deals
    cross join params
    semi join deal_keys on deals.deal_id = deal_keys.deal_id
    where deals.created_at::date between periods.period_start and periods.period_end
),

-- the history rows that begin a stage visit in a period, up to its as-of date
period_visits as (
    select
        periods.period_id,
        history.deal_id,
        history.entered_at,
    from history
    inner join periods
        on history.entered_at::date between periods.period_start and periods.period_end
    semi join deal_keys on history.deal_id = deal_keys.deal_id
    where history.entered_at < periods.cutoff_at
),

-- only the history of the cohort deals and of the deals with such a visit is ordered below
ordered_deals as (
    select deal_id from cohort
    union
    select deal_id from period_visits
),

-- their history rows in order ('lost' rows have no rank), ordered once for every period:
-- the rank of the ranked row before each (a backward move) and the next row's time (a
-- visit's end, whenever it is); a period reads the rows before its as-of date, whose
-- previous ranked row is the same whatever later rows the deal has
ranked_history as (
    select
        history.deal_id,
        history.stage,
        history.entered_at,
        list_position(params.stages, history.stage) as stage_rank,
    from history
    cross join params
    semi join ordered_deals on history.deal_id = ordered_deals.deal_id
),

ordered_history as (
    select
        *,
        lag(stage_rank ignore nulls) over deal_order as previous_rank,
        lead(entered_at) over deal_order as next_entered_at,
    from ranked_history
    window deal_order as (partition by deal_id order by entered_at, coalesce(stage_rank, 0))
),

-- ranked history rows of cohort deals up to their period's as-of date
deal_paths as (
    select
        cohort.period_id,
        cohort.deal_id,
        max(ordered_history.stage_rank) as max_history_rank,
        list(distinct ordered_history.stage_rank) as history_ranks,
        bool_or(ordered_history.stage_rank < ordered_history.previous_rank) as has_backward_move,
    from cohort
    inner join periods on cohort.period_id = periods.period_id
    inner join ordered_history on cohort.deal_id = ordered_history.deal_id
    where ordered_history.entered_at < periods.cutoff_at
        and ordered_history.stage_rank is not null
    group by cohort.period_id, cohort.deal_id
),

-- the cohort deals with any history row (whenever): without one, a deal's current stage is
-- taken as its furthest
deals_with_any_history as (select distinct deal_id from ordered_history),

deal_state as (
    select
        cohort.period_id,
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
    left join deal_paths on cohort.period_id = deal_paths.period_id and cohort.deal_id = deal_paths.deal_id
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

-- each period's deals in the overall group and in their $by group
keyed_rules as (
    select
        deal_rules.*,
        deal_keys.is_overall,
        deal_keys.group_key,
    from deal_rules
    inner join deal_keys on deal_rules.deal_id = deal_keys.deal_id
),

visit_days as (
    select
        periods.period_id,
        deal_keys.is_overall,
        deal_keys.group_key,
        visits.stage,
        date_diff(
            'day',
            visits.entered_at::date,
            case
                when visits.next_entered_at < periods.cutoff_at then visits.next_entered_at::date
                when deals.outcome in ('won', 'lost') and deals.closed_at < periods.cutoff_at
                    and deals.closed_at >= visits.entered_at then deals.closed_at::date
                else periods.as_of_date
            end
        ) as days_in_stage,
    from ordered_history as visits
    inner join periods
        on visits.entered_at::date between periods.period_start and periods.period_end
    inner join deal_keys on visits.deal_id = deal_keys.deal_id
    left join deals on visits.deal_id = deals.deal_id
    where visits.entered_at < periods.cutoff_at
),

groups as (
    select period_id, is_overall, group_key from keyed_rules
    union
    select period_id, is_overall, group_key from visit_days
    union
    select period_id, true as is_overall, 'all' as group_key from periods
    where $only_group::varchar is null
),

cohort_counts as (
    select
        groups.period_id,
        groups.is_overall,
        groups.group_key,
        count(keyed_rules.deal_id) as count_cohort_deals,
        count(keyed_rules.deal_id) filter (where keyed_rules.has_skipped_stage) as count_skipped_stage_deals,
        count(keyed_rules.deal_id) filter (where keyed_rules.has_backward_move) as count_backward_move_deals,
    from groups
    left join keyed_rules
        on groups.period_id = keyed_rules.period_id
            and groups.is_overall = keyed_rules.is_overall
            and groups.group_key = keyed_rules.group_key
    group by groups.period_id, groups.is_overall, groups.group_key
),

stage_counts as (
    select
        groups.period_id,
        groups.is_overall,
        groups.group_key,
        stage_list.stage,
        stage_list.stage_rank,
        count(keyed_rules.deal_id) filter (
            where case when params.is_strict then keyed_rules.strict_rank else keyed_rules.furthest_rank end
            >= stage_list.stage_rank
        ) as reached,
        count(keyed_rules.deal_id) filter (
            where keyed_rules.status_as_of = 'lost' and keyed_rules.furthest_rank = stage_list.stage_rank
        ) as lost_at,
        count(keyed_rules.deal_id) filter (
            where keyed_rules.status_as_of = 'open' and keyed_rules.furthest_rank = stage_list.stage_rank
        ) as open_at,
        count(keyed_rules.deal_id) filter (
            where keyed_rules.status_as_of = 'missing' and keyed_rules.furthest_rank = stage_list.stage_rank
        ) as missing_at,
    from groups
    cross join stage_list
    cross join params
    left join keyed_rules
        on groups.period_id = keyed_rules.period_id
            and groups.is_overall = keyed_rules.is_overall
            and groups.group_key = keyed_rules.group_key
    group by groups.period_id, groups.is_overall, groups.group_key, stage_list.stage, stage_list.stage_rank
),

stage_days as (
    select
        period_id,
        is_overall,
        group_key,
        stage,
        count(*) as count_visits,
        quantile_cont(days_in_stage, 0.1) as p10_days_in_stage,
        quantile_cont(days_in_stage, 0.25) as p25_days_in_stage,
        quantile_cont(days_in_stage, 0.5) as median_days_in_stage,
        quantile_cont(days_in_stage, 0.75) as p75_days_in_stage,
        quantile_cont(days_in_stage, 0.9) as p90_days_in_stage,
    from visit_days
    group by period_id, is_overall, group_key, stage
),

final as (
    select
        stage_counts.period_id,
        stage_counts.is_overall,
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
    inner join cohort_counts
        on stage_counts.period_id = cohort_counts.period_id
            and stage_counts.is_overall = cohort_counts.is_overall
            and stage_counts.group_key = cohort_counts.group_key
    left join stage_days
        on stage_counts.period_id = stage_days.period_id
            and stage_counts.is_overall = stage_days.is_overall
            and stage_counts.group_key = stage_days.group_key
            and stage_counts.stage = stage_days.stage
)

select * from final
order by period_id asc, is_overall desc, group_key asc, stage_rank asc
