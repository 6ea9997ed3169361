-- Canonical warehouse, version 1.
-- Ids are text as the CRM gives them; money is decimal(18,2) in the report currency;
-- timestamps are local and naive. No primary-key indexes: imports deduplicate by natural
-- key themselves (delete + insert in one transaction), which keeps bulk loads fast.

create table customers (
    customer_id varchar not null,
    name varchar,
    industry varchar,
    region varchar,
    size_band varchar,
    owner_rep_id varchar,
    source_channel varchar,
    created_at timestamp,
);

create table reps (
    rep_id varchar not null,
    name varchar,
    team varchar,
    region varchar,
);

create table targets (
    rep_id varchar not null,
    period_start date not null,
    period_end date not null,
    target_amount decimal(18, 2) not null,
);

create table deals (
    deal_id varchar not null,
    customer_id varchar,
    owner_rep_id varchar,
    pipeline varchar,
    stage varchar not null,
    outcome varchar not null check (outcome in ('open', 'won', 'lost')),
    amount decimal(18, 2),
    created_at timestamp,
    closed_at timestamp,
    lost_reason varchar,
    source_channel varchar,
);

-- one row per stage a deal entered
create table deal_stage_history (
    deal_id varchar not null,
    stage varchar not null,
    entered_at timestamp not null,
);

create table orders (
    order_id varchar not null,
    customer_id varchar not null,
    order_date date not null,
    amount decimal(18, 2) not null,
);

create table activities (
    activity_id varchar not null,
    customer_id varchar,
    deal_id varchar,
    rep_id varchar,
    kind varchar,
    occurred_at timestamp not null,
);

create sequence import_id_seq start 1;

-- one row per imported file
create table imports (
    import_id integer not null,
    file varchar not null,
    sha256 varchar not null,
    adapter varchar not null,
    target_table varchar,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    started_at timestamp not null,
    finished_at timestamp not null,
);

-- every row an import refused, with why
create table rejects (
    import_id integer not null,
    file varchar not null,
    line bigint,
    "column" varchar,
    value varchar,
    reason varchar not null,
);
