-- Stable pseudonyms for masked reports (crmreview.scope, --mask-pii): 'Customer 0042',
-- '销售 07'. Numbered in the order of md5(id) over the whole warehouse, so a customer has the
-- same pseudonym in every table, chart and sentence of a report, whatever its scope. An id
-- stays as it is unless it is the name itself (some exports use the name as the id): then the
-- id is shown as the pseudonym too. Empty when view_settings does not mask.
-- grain: one row per customer / rep.
create or replace temp table pii_customers as
select
    customers.customer_id,
    s.customer_word || ' ' || lpad(
        (row_number() over (order by md5(customers.customer_id), customers.customer_id))::varchar,
        greatest(4, length(count(*) over ()::varchar))::integer,
        '0'
    ) as pseudonym,
    case
        when lower(trim(customers.customer_id)) = lower(trim(customers.name)) then pseudonym
        else customers.customer_id
    end as shown_id,
from warehouse.main.customers as customers, view_settings as s
where s.mask_pii;

create or replace temp table pii_reps as
select
    reps.rep_id,
    s.rep_word || ' ' || lpad(
        (row_number() over (order by md5(reps.rep_id), reps.rep_id))::varchar,
        greatest(2, length(count(*) over ()::varchar))::integer,
        '0'
    ) as pseudonym,
    case
        when lower(trim(reps.rep_id)) = lower(trim(reps.name)) then pseudonym
        else reps.rep_id
    end as shown_id,
from warehouse.main.reps as reps, view_settings as s
where s.mask_pii;
