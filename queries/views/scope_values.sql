-- The values a scope can name (crmreview.scope): every team, region, rep and pipeline the
-- warehouse records. Read before the views of views.sql exist.
-- grain: one row per (field, value).
-- columns: field (team | region | rep | pipeline), value ('' = deals without a pipeline).
select distinct
    'team' as field,
    reps.team as value,
from warehouse.main.reps as reps where reps.team is not null
union
select distinct
    'region' as field,
    reps.region as value,
from warehouse.main.reps as reps where reps.region is not null
union
select distinct
    'region' as field,
    customers.region as value,
from warehouse.main.customers as customers where customers.region is not null
union
select
    'rep' as field,
    reps.rep_id as value,
from warehouse.main.reps as reps
union
select distinct
    'rep' as field,
    deals.owner_rep_id as value,
from warehouse.main.deals as deals where deals.owner_rep_id is not null
union
select distinct
    'pipeline' as field,
    coalesce(deals.pipeline, '') as value,
from warehouse.main.deals as deals
