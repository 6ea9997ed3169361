-- Version 2: imports through mappings, and stage history rebuilt from export snapshots.

-- which mapping (by content) an import used, when the export was taken, and how many
-- canonical records it wrote (lines summed into one order count once)
alter table imports add column mapping_sha256 varchar;
alter table imports add column exported_at timestamp;
alter table imports add column records_loaded bigint;

-- one row per deal per imported snapshot of a current-stage-only deals export
create table deal_snapshots (
    import_id integer not null,
    deal_id varchar not null,
    stage varchar not null,
    outcome varchar not null,
    snapshot_at timestamp not null,
);

-- deals whose deal_stage_history crm-review built rather than imported:
--   origin = 'inferred'   one snapshot: first stage at created_at, won/lost at closed_at
--   origin = 'snapshots'  two or more: each stage change dated at the later snapshot
create table deal_history_origin (
    deal_id varchar not null,
    origin varchar not null check (origin in ('inferred', 'snapshots')),
    import_id integer not null,
);
