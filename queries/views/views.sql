-- The canonical tables as a restricted read connection shows them (crmreview.scope): temporary
-- views named like the tables, which the temp catalog puts before the attached warehouse, so
-- every query, macro and section reads the scoped, masked rows without knowing it.
-- Reads view_settings (settings.sql), scope_* (scope.sql) and pii_* (pseudonyms.sql).
--   reps, targets  under a team/region/rep scope: the scope's reps; otherwise every rep
--   activities  under a team/region/rep scope: those on the scope's customers or deals or by
--               its reps; under a channel scope: those on its customers or deals; under a
--               pipeline scope: those on its deals or on no deal
--   rejects     the rejected value is hidden when masking (it may hold a name)
--   customers, deals  their attributes (custom fields) are hidden when masking (a contact, a
--               deal name may be among them)
create or replace temp view customers as
select
    customers.* replace (
        coalesce(pc.shown_id, customers.customer_id) as customer_id,
        coalesce(pc.pseudonym, customers.name) as name,
        coalesce(pr.shown_id, customers.owner_rep_id) as owner_rep_id,
        case when not (select view_settings.mask_pii from view_settings) then customers.attributes end as attributes
    ),
from warehouse.main.customers as customers
left join pii_customers as pc on customers.customer_id = pc.customer_id
left join pii_reps as pr on customers.owner_rep_id = pr.rep_id
where
    not (select view_settings.restrict_customers from view_settings)
    or customers.customer_id in (select scope_customers.customer_id from scope_customers);

create or replace temp view reps as
select
    reps.* replace (
        coalesce(pr.shown_id, reps.rep_id) as rep_id,
        coalesce(pr.pseudonym, reps.name) as name,
        case when pr.rep_id is null then reps.email end as email
    ),
from warehouse.main.reps as reps
left join pii_reps as pr on reps.rep_id = pr.rep_id
where
    not (select view_settings.restrict_reps from view_settings)
    or reps.rep_id in (select scope_reps.rep_id from scope_reps);

create or replace temp view targets as
select targets.* replace (coalesce(pr.shown_id, targets.rep_id) as rep_id),
from warehouse.main.targets as targets
left join pii_reps as pr on targets.rep_id = pr.rep_id
where
    not (select view_settings.restrict_reps from view_settings)
    or targets.rep_id in (select scope_reps.rep_id from scope_reps);

create or replace temp view deals as
select
    deals.* replace (
        coalesce(pc.shown_id, deals.customer_id) as customer_id,
        coalesce(pr.shown_id, deals.owner_rep_id) as owner_rep_id,
        case when not (select view_settings.mask_pii from view_settings) then deals.attributes end as attributes
    ),
from warehouse.main.deals as deals
left join pii_customers as pc on deals.customer_id = pc.customer_id
left join pii_reps as pr on deals.owner_rep_id = pr.rep_id
where
    not (select view_settings.restrict_deals from view_settings)
    or deals.deal_id in (select scope_deals.deal_id from scope_deals);

create or replace temp view deal_stage_history as
select deal_stage_history.*,
from warehouse.main.deal_stage_history as deal_stage_history
where
    not (select view_settings.restrict_deals from view_settings)
    or deal_stage_history.deal_id in (select scope_deals.deal_id from scope_deals);

create or replace temp view orders as
select orders.* replace (coalesce(pc.shown_id, orders.customer_id) as customer_id),
from warehouse.main.orders as orders
left join pii_customers as pc on orders.customer_id = pc.customer_id
where
    not (select view_settings.restrict_customers from view_settings)
    or orders.customer_id in (select scope_customers.customer_id from scope_customers);

create or replace temp view activities as
select
    activities.* replace (
        coalesce(pc.shown_id, activities.customer_id) as customer_id,
        coalesce(pr.shown_id, activities.rep_id) as rep_id
    ),
from warehouse.main.activities as activities
left join pii_customers as pc on activities.customer_id = pc.customer_id
left join pii_reps as pr on activities.rep_id = pr.rep_id
where
    case
        when (select view_settings.restrict_customers from view_settings)
            then
                activities.customer_id in (select scope_customers.customer_id from scope_customers)
                or activities.deal_id in (select scope_deals.deal_id from scope_deals)
                or activities.rep_id in (select scope_reps.rep_id from scope_reps)
        when (select view_settings.restrict_deals from view_settings)
            then activities.deal_id is null or activities.deal_id in (select scope_deals.deal_id from scope_deals)
        else true
    end;

create or replace temp view rejects as
select
    rejects.* replace (
        case when (select view_settings.mask_pii from view_settings) then '***' else rejects.value end as value
    ),
from warehouse.main.rejects as rejects;
