-- Shared deal definitions used by the funnel queries (temporary, per connection).

-- The dimensions a deal is broken down by (--by rep|team|channel|region|pipeline|industry|
-- size_band, attr:NAME, tag:NAME).
-- grain: one row per deal.
--   pipeline the deal's pipeline ('' for deals without one: the default pipeline)
--   rep_id   the deal's owner rep
--   team     that rep's team
--   channel  the deal's source channel, else its customer's
--   region   the customer's region, else the owner rep's
--   industry, size_band  the customer's
--   deal_attributes, customer_attributes  the custom fields of the deal and of its customer
create or replace temp view deal_dimensions as
select
    deals.deal_id,
    coalesce(deals.pipeline, '') as pipeline,
    deals.owner_rep_id as rep_id,
    reps.team,
    coalesce(deals.source_channel, customers.source_channel) as channel,
    coalesce(customers.region, reps.region) as region,
    customers.industry,
    customers.size_band,
    deals.attributes as deal_attributes,
    customers.attributes as customer_attributes,
from deals
left join reps on deals.owner_rep_id = reps.rep_id
left join customers on deals.customer_id = customers.customer_id;

-- The group each deal falls in for a breakdown: group_by is all | rep | team | channel |
-- region | tier | pipeline | industry | size_band | attr:NAME | tag:NAME (breakdown_key and
-- breakdown_tags, queries/macros/customer_dimensions.sql: the deal's attribute, else its customer's); a deal
-- without a value is in group ''. The tier is the ABC tier of the deal's customer at
-- as_of_date (customer_tiers, queries/macros/customers.sql).
-- pipeline_name: only the deals of this pipeline ('' = deals without one); null = every deal.
-- grain: one row per deal (of the pipeline) and group (one group per deal but for tag:NAME).
create or replace temp macro deal_groups(group_by, as_of_date, a_share, b_share, window_months, pipeline_name) as table
    with
    tiers as (
        select customer_id, tier from customer_tiers(as_of_date, a_share, b_share, window_months)
        where group_by = 'tier'
    ),

    keyed as not materialized (
        select
            deal_dimensions.deal_id,
            -- read only for a breakdown by a custom field
            case when contains(group_by, ':') then deal_dimensions.deal_attributes end as deal_attributes,
            case when contains(group_by, ':') then deal_dimensions.customer_attributes end as customer_attributes,
            case group_by
                when 'all' then 'all'
                when 'rep' then deal_dimensions.rep_id
                when 'team' then deal_dimensions.team
                when 'channel' then deal_dimensions.channel
                when 'region' then deal_dimensions.region
                when 'tier' then tiers.tier
                when 'pipeline' then deal_dimensions.pipeline
                when 'industry' then deal_dimensions.industry
                when 'size_band' then deal_dimensions.size_band
            end as fixed_value,
        from deal_dimensions
        left join deals on deal_dimensions.deal_id = deals.deal_id
        left join tiers on deals.customer_id = tiers.customer_id
        where pipeline_name is null or deal_dimensions.pipeline = pipeline_name
    )

    select
        deal_id,
        breakdown_key(group_by, fixed_value, deal_attributes, customer_attributes) as group_key,
    from keyed
    where not starts_with(group_by, 'tag:')
    union all
    select
        deal_id,
        unnest(breakdown_tags(group_by, deal_attributes, customer_attributes)) as group_key,
    from keyed
    where starts_with(group_by, 'tag:');

-- The deals of a breakdown twice over: every deal (of the pipeline) in the overall group
-- ('all', is_overall) and in its group_by group beside it (none beside it when group_by is
-- 'all'), so that one pass counts the whole and its groups. Arguments as deal_groups'.
-- grain: one row per deal and group, is_overall first.
create or replace temp macro deal_groups_and_all(
    group_by, as_of_date, a_share, b_share, window_months, pipeline_name
) as table
    select
        deal_id,
        true as is_overall,
        group_key,
    from deal_groups('all', as_of_date, a_share, b_share, window_months, pipeline_name)
    union all
    select
        deal_id,
        false as is_overall,
        group_key,
    from deal_groups(group_by, as_of_date, a_share, b_share, window_months, pipeline_name)
    where group_by::varchar <> 'all';

-- Periods given as three lists of the same length (first days, last days, as-of dates), one
-- row each, numbered from 1 in list order; cutoff_at is the start of the day after as_of_date.
create or replace temp macro period_list(period_starts, period_ends, as_of_dates) as table
    select
        period_id,
        period_start,
        period_end,
        as_of_date,
        as_of_date + interval 1 day as cutoff_at,
    from (
        select
            generate_subscripts(period_starts, 1) as period_id,
            unnest(period_starts)::date as period_start,
            unnest(period_ends)::date as period_end,
            unnest(as_of_dates)::date as as_of_date,
    );

-- Each deal's state at the end of a day (the as-of rule): a deal closed after that day is
-- open as of it; a won/lost deal without closed_at is taken as closed. A deal that would be
-- open but that a full export taken on or before that day no longer had (missing_since,
-- import --full-snapshot: deleted or merged in the CRM) is 'missing': neither open nor closed.
-- grain: one row per deal existing by then (created_at on or before the day; deals
--   without created_at are left out).
--   status_as_of  open | won | lost | missing
-- (AM04 cannot count the columns of deals.*, the canonical table)
create or replace temp macro deals_as_of(as_of_date) as table
    select  -- noqa: AM04
        deals.*,
        case
            when
                deals.outcome <> 'open' and deals.closed_at is not null
                and deals.closed_at < as_of_date::date + interval 1 day
                then deals.outcome
            when deals.outcome <> 'open' and deals.closed_at is null then deals.outcome
            when deals.missing_since <= as_of_date::date then 'missing'
            else 'open'
        end as status_as_of,
    from deals
    where deals.created_at < as_of_date::date + interval 1 day;

-- Stale deals: open at the end of as_of_date with no stage change in the last stale_days days
-- (queries/metrics/funnel/stale_deals.sql). The last change is the latest history row up to
-- the as-of date, or created_at for a deal with none; deals without created_at and without
-- history cannot be dated and are left out. pipeline_name: only the deals of this pipeline
-- ('' = deals without one); null = every deal.
-- grain: one row per stale deal.
create or replace temp macro stale_deals(as_of_date, stale_days, pipeline_name) as table
    with
    open_deals as (
        select deals.*
        from deals_as_of(as_of_date) as deals
        where deals.status_as_of = 'open'
            and (pipeline_name::varchar is null or coalesce(deals.pipeline, '') = pipeline_name::varchar)
    ),

    last_change as (
        select
            history.deal_id,
            max(history.entered_at) as last_entered_at,
            arg_max(history.stage, history.entered_at) as stage_as_of,
        from deal_stage_history as history
        inner join open_deals on history.deal_id = open_deals.deal_id
        where history.entered_at < as_of_date::date + interval 1 day
        group by history.deal_id
    ),

    changes as (
        select
            open_deals.deal_id,
            open_deals.customer_id,
            open_deals.owner_rep_id,
            coalesce(last_change.stage_as_of, open_deals.stage) as stage,
            open_deals.amount,
            coalesce(last_change.last_entered_at, open_deals.created_at)::date as last_change_date,
            date_diff('day', coalesce(last_change.last_entered_at, open_deals.created_at)::date, as_of_date::date)
                as days_since_change,
        from open_deals
        left join last_change on open_deals.deal_id = last_change.deal_id
    )

    select *
    from changes
    where days_since_change >= stale_days::integer;
