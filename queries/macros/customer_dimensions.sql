-- Shared customer dimensions used by the tier and follow-up queries (temporary, per connection).

-- The dimensions a customer is broken down by (--by rep|team|channel|region).
-- grain: one row per customer.
--   rep_id   the customer's owner rep
--   team     that rep's team
--   channel  the customer's source channel
--   region   the customer's region, else the owner rep's
create or replace temp view customer_dimensions as
select
    customers.customer_id,
    customers.owner_rep_id as rep_id,
    reps.team,
    customers.source_channel as channel,
    coalesce(customers.region, reps.region) as region,
from customers
left join reps on customers.owner_rep_id = reps.rep_id;

-- The group each customer falls in for a breakdown: group_by is all | rep | team | channel |
-- region; a customer without a value is in group ''.
-- grain: one row per customer.
create or replace temp macro customer_groups(group_by) as table
    select
        customer_id,
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
    from customer_dimensions;
