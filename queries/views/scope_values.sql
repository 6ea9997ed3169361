-- The values a scope can name (crmreview.scope): every team, region, rep, pipeline and source
-- channel the warehouse records. Read before the views of views.sql exist.
-- grain: one row per (field, value).
-- columns: field (team | region | rep | pipeline | channel), value ('' = deals without a pipeline).
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
union
select distinct
    'channel' as field,
    deals.source_channel as value,
from warehouse.main.deals as deals where deals.source_channel is not null
union
select distinct
    'channel' as field,
    customers.source_channel as value,
from warehouse.main.customers as customers where customers.source_channel is not null
