-- The values each explore filter offers: the teams, reps, channels, regions, pipelines, the
-- customers' industries and size bands, and the custom fields' values the warehouse holds
-- (aggregated: one row per distinct value, never the rows themselves).
--
-- grain: one row per (dimension, value); dimension is team | rep | channel | region | pipeline |
--   industry | size_band | attr:NAME | tag:NAME.
--   For a rep, value is the rep_id, label its name (else the id) and team its team.
--   Deals without a pipeline are in pipeline '' (the default pipeline).
--   A custom field of customers or deals (attributes) with at most $max_field_values distinct
--   values is a filter: tag:NAME when a value lists several (split at , ， 、 ; ； | as
--   breakdown_tags does, queries/macros/customer_dimensions.sql), value one tag; else
--   attr:NAME, value the field's value.
-- params: $max_field_values (integer).
-- invariant: dimension in ('team', 'rep', 'channel', 'region', 'pipeline', 'industry', 'size_band')
--   or starts_with(dimension, 'attr:') or starts_with(dimension, 'tag:')

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

field_maps as (
    select customer_attributes as field_map from deal_dimensions
    union all
    select deal_attributes as field_map from deal_dimensions
    union all
    select attributes as field_map from customer_dimensions
),

field_entries as (
    select
        unnest(map_keys(field_map)) as field,
        trim(unnest(map_values(field_map))) as field_value,
    from field_maps
),

fields as (
    select
        field,
        bool_or(regexp_matches(field_value, '[,，、;；|]')) as is_tags,
    from field_entries
    where field_value <> ''
    group by field
),

field_values as (
    select distinct
        case when fields.is_tags then 'tag:' else 'attr:' end || fields.field as dimension,
        unnest(
            case
                when fields.is_tags
                    then breakdown_tags(
                            'tag:' || fields.field, map([fields.field], [field_entries.field_value]), map()
                        )
                else [field_entries.field_value]
            end
        ) as value,
    from field_entries
    inner join fields on field_entries.field = fields.field
    where field_entries.field_value <> ''
),

offered_field_values as (
    select
        dimension,
        value,
        value as label,
        null::varchar as team,
    from field_values
    qualify count(*) over (partition by dimension) <= $max_field_values
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
    union all
    select * from offered_field_values
)

select * from final
order by dimension asc, label asc, value asc
