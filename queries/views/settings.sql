-- What a restricted read connection shows (crmreview.scope): one row of bound parameters that
-- the views of views.sql read.
-- params: $team, $region, $rep, $pipeline, $channel (text; null = not restricted by it),
--   $mask_pii (boolean), $customer_word, $rep_word (the words of the pseudonyms: 'Customer', '客户', …).
--   restrict_reps: a team, region or rep scope (a channel scope keeps every rep).
--   restrict_customers: a team, region, rep or channel scope (a pipeline scope restricts deals only).
create or replace temp table view_settings as
select
    $team::varchar as team,
    $region::varchar as region,
    $rep::varchar as rep_id,
    $pipeline::varchar as pipeline,
    $channel::varchar as channel,
    coalesce($mask_pii::boolean, false) as mask_pii,
    $customer_word::varchar as customer_word,
    $rep_word::varchar as rep_word,
    ($team is not null or $region is not null or $rep is not null) as restrict_reps,
    ($team is not null or $region is not null or $rep is not null or $channel is not null) as restrict_customers,
    (
        $team is not null or $region is not null or $rep is not null or $channel is not null or $pipeline is not null
    ) as restrict_deals
