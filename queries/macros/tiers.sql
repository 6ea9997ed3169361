-- Shared tier definitions beyond ABC (temporary, per connection): the measures a scorecard
-- weighs, the scorecard itself, and how tiers changed between two dates. Builds on
-- customer_values / customer_tiers (customers.sql), which this file loads after.

-- What a scorecard can weigh, per customer at the as-of date.
-- grain: one row per customer of the customer_values universe.
--   value              the tier value (customer_values): net amount over the window, >= 0
--   count_purchases    purchases in the window: orders with amount > 0 or, when the
--                      warehouse holds no orders at all, won deals with amount > 0 closed in it
--   last_purchase_date the latest purchase on or before the as-of date (any time before)
--   recency_days       as-of date - last_purchase_date; null without a purchase
--   industry, region, size_band, source_channel   the customer's fields, as imported
create or replace temp macro customer_measures(as_of_date, window_months) as table
    with
    bounds as (
        select
            (as_of_date::date - to_months(window_months::integer) + interval 1 day)::date as window_start,
            as_of_date::date as window_end,
            (select count(*) from orders) > 0 as has_orders,
    ),

    purchases as (
        select orders.customer_id, orders.order_date as purchase_date,
        from orders
        cross join bounds
        where bounds.has_orders and orders.amount > 0
        union all
        select deals.customer_id, deals.closed_at::date as purchase_date,
        from deals
        cross join bounds
        where not bounds.has_orders
            and deals.outcome = 'won'
            and deals.amount > 0
            and deals.closed_at is not null
    ),

    purchase_stats as (
        select
            purchases.customer_id,
            count(*) filter (
                where purchases.purchase_date between bounds.window_start and bounds.window_end
            ) as count_purchases,
            max(purchases.purchase_date) filter (
                where purchases.purchase_date <= bounds.window_end
            ) as last_purchase_date,
        from purchases
        cross join bounds
        group by purchases.customer_id
    )

    select
        customer_value.customer_id,
        customer_value.value,
        coalesce(purchase_stats.count_purchases, 0) as count_purchases,
        purchase_stats.last_purchase_date,
        date_diff('day', purchase_stats.last_purchase_date, bounds.window_end) as recency_days,
        customers.industry,
        customers.region,
        customers.size_band,
        customers.source_channel,
    from customer_values(as_of_date, window_months) as customer_value
    cross join bounds
    left join purchase_stats on customer_value.customer_id = purchase_stats.customer_id
    left join customers on customer_value.customer_id = customers.customer_id;

-- Scorecard points per customer and dimension (0-100 each).
-- dimensions: JSON text, a list of {name, measure | field, weight, bands, points, default_points}
--   (built from Settings.scorecard by crmreview.tiers; validated there):
--   measure amount | frequency | recency, scored by
--     bands [{bound, points}]: the band with the highest bound the measure reaches
--       (amount, frequency: measure >= bound) or, for recency, the lowest bound it stays
--       within (recency_days <= bound); no band reached (or no purchase) -> default_points;
--     no bands: by rank, 100 x percent_rank() of the measure over the universe (the share of
--       the other customers with a strictly worse measure; ties share the lower rank; a
--       customer without a purchase has the worst recency);
--   field industry | region | size_band | source_channel, scored by points [{value, points}];
--     any other value, or none -> default_points.
-- grain: one row per customer of the universe and dimension.
create or replace temp macro customer_score_points(as_of_date, window_months, dimensions) as table
    with
    parsed as (
        select
            from_json(
                dimensions,
                '[{"name": "VARCHAR", "measure": "VARCHAR", "field": "VARCHAR", "weight": "DOUBLE",
               "bands": [{"bound": "DOUBLE", "points": "DOUBLE"}],
               "points": [{"value": "VARCHAR", "points": "DOUBLE"}],
               "default_points": "DOUBLE"}]'
            ) as dimension_list,
    ),

    dimension_rows as (
        select
            unnest(dimension_list) as dimension,
            unnest(range(1, len(dimension_list) + 1)) as dimension_no,
        from parsed
    ),

    dimension_specs as (
        select
            dimension_rows.dimension_no,
            dimension.name as dimension,
            dimension.measure,
            dimension.field,
            dimension.weight,
            coalesce(dimension.bands, []) as bands,
            coalesce(dimension.points, []) as field_points,
            coalesce(dimension.default_points, 0) as default_points,
        from dimension_rows
    ),

    measured as (
        select
            measures.customer_id,
            dimension_specs.dimension_no,
            dimension_specs.dimension,
            dimension_specs.measure,
            dimension_specs.field,
            dimension_specs.weight,
            len(dimension_specs.bands) > 0 as has_bands,
            dimension_specs.default_points,
            case dimension_specs.measure
                when 'amount' then measures.value::double
                when 'frequency' then measures.count_purchases::double
                when 'recency' then measures.recency_days::double
            end as measure_value,
            case dimension_specs.field
                when 'industry' then measures.industry
                when 'region' then measures.region
                when 'size_band' then measures.size_band
                when 'source_channel' then measures.source_channel
            end as field_value,
        from customer_measures(as_of_date, window_months) as measures
        cross join dimension_specs
    ),

    ranked as (
        select
            *,
            percent_rank() over (
                partition by dimension_no
                order by case when measure = 'recency' then -measure_value else measure_value end asc nulls first
            ) as share_worse,
        from measured
    ),

    band_rows as (
        select dimension_no, unnest(bands) as band, from dimension_specs
    ),

    -- band_rows.band.bound and field_rows.field_point.points are struct fields (table.column.field),
    -- which RF01 reads as schema.table.column (and ST11 then misses the use of field_rows).
    -- noqa: disable=RF01,ST11
    band_matches as (
        select
            ranked.customer_id,
            ranked.dimension_no,
            case
                when any_value(ranked.measure) = 'recency' then arg_min(band_rows.band.points, band_rows.band.bound)
                else arg_max(band_rows.band.points, band_rows.band.bound)
            end as band_points,
        from ranked
        inner join band_rows
            on ranked.dimension_no = band_rows.dimension_no
                and case
                    when ranked.measure = 'recency' then ranked.measure_value <= band_rows.band.bound
                    else ranked.measure_value >= band_rows.band.bound
                end
        group by ranked.customer_id, ranked.dimension_no
    ),

    field_rows as (
        select dimension_no, unnest(field_points) as field_point, from dimension_specs
    )

    select
        ranked.customer_id,
        ranked.dimension_no,
        ranked.dimension,
        ranked.measure,
        ranked.field,
        ranked.weight,
        ranked.measure_value,
        ranked.field_value,
        case
            when ranked.field is not null then coalesce(field_rows.field_point.points, ranked.default_points)
            when ranked.has_bands then coalesce(band_matches.band_points, ranked.default_points)
            else 100 * ranked.share_worse
        end as points,
    from ranked
    left join band_matches
        on ranked.customer_id = band_matches.customer_id
            and ranked.dimension_no = band_matches.dimension_no
    left join field_rows
        on ranked.dimension_no = field_rows.dimension_no
            and ranked.field_value = field_rows.field_point.value;
-- noqa: enable=RF01,ST11

-- Scorecard tiers: score = sum(weight x points) / sum(weight), rounded to 6 decimals (0-100);
-- A when score >= cutoff_a, B when >= cutoff_b, else C.
-- grain: one row per customer of the universe.
create or replace temp macro customer_scorecard(as_of_date, window_months, dimensions, cutoff_a, cutoff_b) as table
    with
    scores as (
        select
            customer_id,
            round(sum(weight * points) / sum(weight), 6) as score,
        from customer_score_points(as_of_date, window_months, dimensions)
        group by customer_id
    )

    select
        measures.customer_id,
        measures.value,
        measures.count_purchases,
        measures.recency_days,
        scores.score,
        case
            when scores.score >= cutoff_a::double then 'A'
            when scores.score >= cutoff_b::double then 'B'
            else 'C'
        end as tier,
    from customer_measures(as_of_date, window_months) as measures
    left join scores on measures.customer_id = scores.customer_id;

-- How each customer's ABC tier changed between two dates (migration).
-- grain: one row per customer in either universe.
--   from_tier  the tier at previous_as_of_date, 'new' when not in that universe
--   to_tier    the tier at as_of_date, 'gone' when not in this universe (only when the
--              previous date is the later one, or customers were deleted)
--   direction  up | down (A < B < C) | same | new | gone
create or replace temp macro tier_changes(as_of_date, previous_as_of_date, a_share, b_share, window_months) as table
    with
    now_tiers as (
        select customer_id, value, tier, from customer_tiers(as_of_date, a_share, b_share, window_months)
    ),

    previous_tiers as (
        select customer_id, value, tier, from customer_tiers(previous_as_of_date, a_share, b_share, window_months)
    )

    select
        coalesce(now_tiers.customer_id, previous_tiers.customer_id) as customer_id,
        coalesce(previous_tiers.tier, 'new') as from_tier,
        coalesce(now_tiers.tier, 'gone') as to_tier,
        previous_tiers.value as previous_value,
        now_tiers.value,
        case
            when previous_tiers.tier is null then 'new'
            when now_tiers.tier is null then 'gone'
            when now_tiers.tier < previous_tiers.tier then 'up'
            when now_tiers.tier > previous_tiers.tier then 'down'
            else 'same'
        end as direction,
    from now_tiers
    full outer join previous_tiers on now_tiers.customer_id = previous_tiers.customer_id;
