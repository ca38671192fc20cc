-- The change feed: one row per change, written in the transaction of the change.
--
-- A plain sequence does not give a gap-free feed: a transaction can take a
-- smaller number and commit after a reader has passed it. So every event also
-- records the id of the transaction that wrote it (xid8, assigned when the row
-- is written), and readers only see events of transactions older than the
-- oldest one still running (pg_snapshot_xmin), ordered by (txid, seq). Any
-- transaction that commits later has a txid at or above that horizon, so it
-- sorts after everything a reader has already seen: nothing is missed and
-- nothing is seen twice.

create table events (
    company_id uuid not null,
    txid xid8 not null default pg_current_xact_id(),
    seq bigint generated always as identity,
    type text not null,
    resource text not null,
    resource_id uuid not null,
    version integer not null,
    occurred_at timestamptz not null default now(),
    constraint events_pkey primary key (company_id, txid, seq),
    constraint events_company_fkey foreign key (company_id) references companies (id)
);
