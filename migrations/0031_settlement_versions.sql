-- A payout changed by its provider (a late chargeback added, a fee corrected) is stored as its
-- next version, its transactions replaced. The version it replaces is kept here, whole, as it
-- was (header, transactions and their matches) when it was replaced: a connector may have
-- posted its journal, and a bookkeeper must be able to see what was posted (nothing
-- acknowledged is ever lost). Written in the transaction that replaces it.
create table settlement_versions (
    company_id uuid not null,
    settlement_id uuid not null,
    version integer not null,
    -- The settlement row and its transactions as JSON, as they were.
    settlement jsonb not null,
    transactions jsonb not null,
    replaced_at timestamptz not null default now(),
    constraint settlement_versions_pkey primary key (company_id, settlement_id, version),
    constraint settlement_versions_settlement_fkey foreign key (company_id, settlement_id)
        references settlements (company_id, id)
);
