-- The values each explore filter offers: the teams, reps, channels, regions, pipelines and the
-- customers' industries and size bands the warehouse holds (aggregated: one row per distinct
-- value, never the rows themselves).
--
-- grain: one row per (dimension, value); dimension is team | rep | channel | region | pipeline |
--   industry | size_band.
--   For a rep, value is the rep_id, label its name (else the id) and team its team.
--   Deals without a pipeline are in pipeline '' (the default pipeline).
-- params: none.
-- invariant: dimension in ('team', 'rep', 'channel', 'region', 'pipeline', 'industry', 'size_band')

with

reps as (select * from reps),

deal_dimensions as (select * from deal_dimensions),

customer_dimensions as (select * from customer_dimensions),

rep_values as (
    select
        'rep' as dimension,
        rep_id as value,
        coalesce(nullif(trim(name), ''), rep_id) as label,
        team,
    from reps
),

team_values as (
    select distinct
        'team' as dimension,
        team as value,
        team as label,
        team,
    from reps
    where team is not null
),

channel_values as (
    select distinct
        'channel' as dimension,
        channel as value,
        channel as label,
        null::varchar as team,
    from (
        select channel from deal_dimensions
        union all
        select channel from customer_dimensions
    )
    where channel is not null
),

region_values as (
    select distinct
        'region' as dimension,
        region as value,
        region as label,
        null::varchar as team,
    from (
        select region from deal_dimensions
        union all
        select region from customer_dimensions
    )
    where region is not null
),

pipeline_values as (
    select distinct
        'pipeline' as dimension,
        pipeline as value,
        pipeline as label,
        null::varchar as team,
    from deal_dimensions
),

customer_values as (
    select distinct
        unnest(['industry', 'size_band']) as dimension,
        unnest([industry, size_band]) as value,
        unnest([industry, size_band]) as label,
        null::varchar as team,
    from customer_dimensions
),

final as (
    select * from rep_values
    union all
    select * from team_values
    union all
    select * from channel_values
    union all
    select * from region_values
    union all
    select * from pipeline_values
    union all
    select * from customer_values
    where value is not null
)

select * from final
order by dimension asc, label asc, value asc
