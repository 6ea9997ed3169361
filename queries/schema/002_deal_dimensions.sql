-- Version 2: the dimensions a deal is broken down by (funnel --by rep|team|channel|region).
-- grain: one row per deal.
--   rep_id   the deal's owner rep
--   team     that rep's team
--   channel  the deal's source channel, else its customer's
--   region   the customer's region, else the owner rep's

create view deal_dimensions as
select
    deals.deal_id,
    deals.owner_rep_id as rep_id,
    reps.team,
    coalesce(deals.source_channel, customers.source_channel) as channel,
    coalesce(customers.region, reps.region) as region,
from deals
left join reps on deals.owner_rep_id = reps.rep_id
left join customers on deals.customer_id = customers.customer_id;
