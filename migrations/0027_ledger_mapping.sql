-- A company's ledger mapping (SPEC "Journals"): which account and VAT code each ledger role
-- posts to in its bookkeeping package. Every change is a new version, kept, so that a journal
-- can say which version it was made with.
create table ledger_mappings (
    company_id uuid not null,
    version integer not null,
    package text not null,
    -- [{role, account, vat_code, rate_id, method_id, category_id}], our ids; the vendor's ids
    -- and a rate's figures are read from the settings when the mapping is read.
    entries jsonb not null,
    -- The client that put this version.
    client_id uuid not null,
    created_at timestamptz not null default now(),
    constraint ledger_mappings_pkey primary key (company_id, version),
    constraint ledger_mappings_company_fkey foreign key (company_id) references companies (id),
    constraint ledger_mappings_version_positive check (version >= 1),
    constraint ledger_mappings_entries_is_array check (jsonb_typeof(entries) = 'array')
);

-- Connectors post journals by default: connector clients that hold every scope a connector
-- had by default get the ledger scopes too; one made with fewer scopes on purpose keeps
-- exactly those.
update clients
set scopes = scopes || array['ledger:read', 'ledger:write']
where kind = 'connector'
  and scopes @> array['customers:read', 'products:read', 'orders:read', 'receipts:read',
                      'settings:read', 'events:read', 'bookings:write']
  and not scopes @> array['ledger:read'];
