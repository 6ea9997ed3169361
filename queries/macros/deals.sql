-- Shared deal definitions used by the funnel queries (temporary, per connection).

-- The dimensions a deal is broken down by (--by rep|team|channel|region).
-- grain: one row per deal.
--   rep_id   the deal's owner rep
--   team     that rep's team
--   channel  the deal's source channel, else its customer's
--   region   the customer's region, else the owner rep's
create or replace temp view deal_dimensions as
select
    deals.deal_id,
    deals.owner_rep_id as rep_id,
    reps.team,
    coalesce(deals.source_channel, customers.source_channel) as channel,
    coalesce(customers.region, reps.region) as region,
from deals
left join reps on deals.owner_rep_id = reps.rep_id
left join customers on deals.customer_id = customers.customer_id;

-- The group each deal falls in for a breakdown: group_by is all | rep | team | channel |
-- region; a deal without a value is in group ''.
-- grain: one row per deal.
create or replace temp macro deal_groups(group_by) as table
select
    deal_id,
    coalesce(
        case group_by
            when 'all' then 'all'
            when 'rep' then rep_id
            when 'team' then team
            when 'channel' then channel
            when 'region' then region
        end,
        ''
    ) as group_key,
from deal_dimensions;

-- Each deal's state at the end of a day (the as-of rule): a deal closed after that day is
-- open as of it; a won/lost deal without closed_at is taken as closed.
-- grain: one row per deal existing by then (created_at on or before the day; deals
--   without created_at are left out).
--   status_as_of  open | won | lost
create or replace temp macro deals_as_of(as_of_date) as table
select
    deals.*,
    case
        when deals.outcome = 'open' then 'open'
        when deals.closed_at is null or deals.closed_at < as_of_date::date + interval 1 day then deals.outcome
        else 'open'
    end as status_as_of,
from deals
where deals.created_at < as_of_date::date + interval 1 day;
