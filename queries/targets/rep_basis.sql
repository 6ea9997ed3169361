-- What a team's target is split by: each rep's won revenue over the history window and open
-- pipeline at the period's start.
--
-- grain: one row per rep of the reps table (of team $team; every rep when $team is null),
--   by rep_id.
-- params: $team (varchar, null = every team); $history_start, $history_end (date): the
--   window of won revenue; $as_of (date): the day before the period starts, whose open deals
--   make the pipeline.
-- definitions: won_amount = amount of the rep's deals won with closed_at's date in the
--   window; open_amount = amount of the rep's deals open at the end of $as_of (deals_as_of);
--   count_* the deals behind them. A rep without a team is in team ''.
-- invariant: won_amount >= 0 and open_amount >= 0
-- invariant: count_won_deals >= 0 and count_open_deals >= 0

with

reps as (select * from reps),

deals as (select * from deals),

params as (
    select
        $team::varchar as team,
        $history_start::date as history_start,
        $history_end::date as history_end,
),

team_reps as (
    select reps.rep_id, reps.name, coalesce(reps.team, '') as team,
    from reps
    cross join params
    where params.team is null or coalesce(reps.team, '') = params.team
),

won as (
    select deals.owner_rep_id as rep_id, count(*) as count_won_deals, sum(deals.amount) as won_amount,
    from deals
    cross join params
    where deals.outcome = 'won' and deals.closed_at::date between params.history_start and params.history_end
    group by deals.owner_rep_id
),

open_deals as (
    select state.owner_rep_id as rep_id, count(*) as count_open_deals, sum(state.amount) as open_amount,
    from deals_as_of($as_of) as state
    where state.status_as_of = 'open'
    group by state.owner_rep_id
),

final as (
    select
        team_reps.rep_id,
        team_reps.name,
        team_reps.team,
        coalesce(won.count_won_deals, 0) as count_won_deals,
        coalesce(won.won_amount, 0)::double as won_amount,
        coalesce(open_deals.count_open_deals, 0) as count_open_deals,
        coalesce(open_deals.open_amount, 0)::double as open_amount,
    from team_reps
    left join won on team_reps.rep_id = won.rep_id
    left join open_deals on team_reps.rep_id = open_deals.rep_id
)

select * from final
order by rep_id
