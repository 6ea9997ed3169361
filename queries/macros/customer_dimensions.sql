-- Shared customer dimensions used by the tier and follow-up queries (temporary, per connection).

-- The group key of one record for a breakdown other than tag:NAME (the rule every *_groups
-- macro applies): group_by = 'attr:NAME' gives the record's attribute NAME (primary map
-- first, then fallback), any other group_by the fixed_value the caller picked for it; a
-- record without a value is in group ''. NAME comes in as part of the bound group_by.
-- grain: one key per record.
create or replace temp macro breakdown_key(group_by, fixed_value, primary_attributes, fallback_attributes) as
coalesce(
    case
        when starts_with(group_by, 'attr:')
            then nullif(
                    trim(
                        coalesce(primary_attributes[substr(group_by, 6)], fallback_attributes[substr(group_by, 6)])
                    ),
                    ''
                )
        else fixed_value
    end,
    ''
);

-- The group keys of one record for group_by = 'tag:NAME': attribute NAME split into tags at
-- , ， 、 ; ； | (each tag once); the record falls in every one of its groups ('' without any).
-- grain: a list of one or more keys per record.
create or replace temp macro breakdown_tags(group_by, primary_attributes, fallback_attributes) as
coalesce(
    nullif(
        list_distinct(
            list_filter(
                list_transform(
                    regexp_split_to_array(
                        coalesce(primary_attributes[substr(group_by, 5)], fallback_attributes[substr(group_by, 5)]),
                        '[,，、;；|]'
                    ),
                    lambda tag: trim(tag)
                ),
                lambda tag: tag <> ''
            )
        ),
        []
    ),
    ['']
);

-- The dimensions a customer is broken down by (--by rep|team|channel|region|industry|size_band,
-- attr:NAME, tag:NAME).
-- grain: one row per customer.
--   rep_id     the customer's owner rep
--   team       that rep's team
--   channel    the customer's source channel
--   region     the customer's region, else the owner rep's
--   industry, size_band  the customer's
--   attributes the customer's custom fields (header -> value)
create or replace temp view customer_dimensions as
select
    customers.customer_id,
    customers.owner_rep_id as rep_id,
    reps.team,
    customers.source_channel as channel,
    coalesce(customers.region, reps.region) as region,
    customers.industry,
    customers.size_band,
    customers.attributes,
from customers
left join reps on customers.owner_rep_id = reps.rep_id;

-- The group each customer falls in for a breakdown: group_by is all | rep | team | channel |
-- region | industry | size_band | attr:NAME | tag:NAME; a customer without a value is in
-- group ''.
-- grain: one row per customer and group (one group per customer but for tag:NAME).
create or replace temp macro customer_groups(group_by) as table
    with keyed as not materialized (
        select
            customer_id,
            -- read only for a breakdown by a custom field
            case when contains(group_by, ':') then attributes end as attributes,
            case group_by
                when 'all' then 'all'
                when 'rep' then rep_id
                when 'team' then team
                when 'channel' then channel
                when 'region' then region
                when 'industry' then industry
                when 'size_band' then size_band
            end as fixed_value,
        from customer_dimensions
    )

    select
        customer_id,
        breakdown_key(group_by, fixed_value, attributes, map()) as group_key,
    from keyed
    where not starts_with(group_by, 'tag:')
    union all
    select
        customer_id,
        unnest(breakdown_tags(group_by, attributes, map())) as group_key,
    from keyed
    where starts_with(group_by, 'tag:');
