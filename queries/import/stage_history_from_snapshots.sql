-- Stage history of the deals of one snapshot import ($import_id), rebuilt from every
-- snapshot of them, for the deals whose history no export provided.
-- grain: one row per deal and stage entered (deal_id, stage, entered_at, origin).
-- rules:
--   first snapshot, open deal      -> its stage, entered at created_at (else the snapshot)
--   first snapshot, won/lost deal  -> $first_stage at created_at, then won/lost at closed_at
--   a later snapshot with another stage -> that stage, entered at the later snapshot (a
--     won/lost deal whose closed_at falls between the two snapshots: at closed_at)
--   origin: 'inferred' with one snapshot, 'snapshots' with two or more
with

deals as (select * from deals),

snapshots as (select * from deal_snapshots),

touched as (
    select distinct deal_id from snapshots where import_id = $import_id
),

-- deals with imported history keep it
eligible as (
    select touched.deal_id from touched
    where touched.deal_id in (select deal_history_origin.deal_id from deal_history_origin)
        or touched.deal_id not in (select deal_stage_history.deal_id from deal_stage_history)
),

ordered as (
    select
        snapshots.deal_id,
        snapshots.stage,
        snapshots.outcome,
        snapshots.snapshot_at,
        lag(snapshots.stage) over by_time as previous_stage,
        lag(snapshots.snapshot_at) over by_time as previous_at,
        row_number() over by_time as snapshot_number,
        count(*) over (partition by snapshots.deal_id) as count_snapshots,
    from snapshots
    inner join eligible using (deal_id)
    window by_time as (partition by snapshots.deal_id order by snapshots.snapshot_at, snapshots.import_id)
),

first_seen as (
    select ordered.*, deals.created_at, deals.closed_at,
    from ordered
    inner join deals using (deal_id)
    where ordered.snapshot_number = 1
),

inferred as (
    select deal_id, stage, coalesce(created_at, snapshot_at) as entered_at, count_snapshots,
    from first_seen
    where outcome = 'open'
    union all
    select deal_id, $first_stage as stage, created_at as entered_at, count_snapshots,
    from first_seen
    where outcome <> 'open' and created_at is not null and stage <> $first_stage
    union all
    select deal_id, stage, coalesce(closed_at, snapshot_at) as entered_at, count_snapshots,
    from first_seen
    where outcome <> 'open'
),

changes as (
    select
        ordered.deal_id,
        ordered.stage,
        case
            when ordered.outcome <> 'open'
                and deals.closed_at > ordered.previous_at
                and deals.closed_at <= ordered.snapshot_at
                then deals.closed_at
            else ordered.snapshot_at
        end as entered_at,
        ordered.count_snapshots,
    from ordered
    inner join deals using (deal_id)
    where ordered.snapshot_number > 1 and ordered.stage is distinct from ordered.previous_stage
),

final as (
    select distinct
        deal_id,
        stage,
        entered_at,
        case when count_snapshots > 1 then 'snapshots' else 'inferred' end as origin,
    from (
        select * from inferred
        union all
        select * from changes
    )
)

select * from final
