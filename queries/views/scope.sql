-- The rows a scope keeps (crmreview.scope), as temporary id lists read by views.sql. Empty
-- lists when view_settings restricts nothing (the views then keep every row).
--   reps       of the team / the rep / the region (reps.region); every rep for a channel
--   deals      owned by those reps' team / the rep, in the region (the customer's, else the
--              owner rep's: deal_dimensions), of the channel (the deal's, else the customer's:
--              deal_dimensions), of the pipeline ('' = deals without one)
--   customers  owned by the team / the rep, in the region (the customer's, else the owner's),
--              of the channel (customers.source_channel: customer_dimensions)
create or replace temp table scope_reps as
select reps.rep_id
from warehouse.main.reps as reps, view_settings as s
where
    s.restrict_reps
    and (s.team is null or reps.team = s.team)
    and (s.rep_id is null or reps.rep_id = s.rep_id)
    and (s.region is null or reps.region = s.region);

create or replace temp table scope_deals as
select deals.deal_id
from warehouse.main.deals as deals
cross join view_settings as s
left join warehouse.main.reps as reps on deals.owner_rep_id = reps.rep_id
left join warehouse.main.customers as customers on deals.customer_id = customers.customer_id
where
    s.restrict_deals
    and (s.team is null or reps.team = s.team)
    and (s.rep_id is null or deals.owner_rep_id = s.rep_id)
    and (s.region is null or coalesce(customers.region, reps.region) = s.region)
    and (s.channel is null or coalesce(deals.source_channel, customers.source_channel) = s.channel)
    and (s.pipeline is null or coalesce(deals.pipeline, '') = s.pipeline);

create or replace temp table scope_customers as
select customers.customer_id
from warehouse.main.customers as customers
cross join view_settings as s
left join warehouse.main.reps as reps on customers.owner_rep_id = reps.rep_id
where
    s.restrict_customers
    and (s.team is null or reps.team = s.team)
    and (s.rep_id is null or customers.owner_rep_id = s.rep_id)
    and (s.region is null or coalesce(customers.region, reps.region) = s.region)
    and (s.channel is null or customers.source_channel = s.channel);
