-- Payouts from payment providers (SPEC "Payouts from payment providers"): a settlement per
-- provider payout, upserted by the provider's payout id, and its transactions, each matched
-- to the order or receipt payment it pays out.
create table settlements (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    provider text not null,
    paid_out_at timestamptz not null,
    paid_out_offset integer not null,
    currency text not null,
    exchange_rate numeric,
    exchange_rate_date date,
    amount numeric(20, 2) not null,
    reference text,
    transaction_count integer not null,
    -- SHA-256 of the canonical validated settlement: an identical resend changes nothing.
    content_hash bytea not null,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint settlements_pkey primary key (company_id, id),
    constraint settlements_external_id_key unique (company_id, external_id),
    constraint settlements_company_fkey foreign key (company_id) references companies (id)
);

create index settlements_paid_out_at_idx on settlements (company_id, paid_out_at, id);

create table settlement_transactions (
    company_id uuid not null,
    settlement_id uuid not null,
    position integer not null,
    kind text not null,
    provider_reference text,
    reference text,
    description text,
    gross numeric(20, 2) not null,
    -- The fee as the API answers it ({amount_excl_vat, vat: {...}, amount_incl_vat}).
    fee jsonb,
    net numeric(20, 2) not null,
    -- The payment it pays out: an order's (by its position in the order's version that was
    -- current when it matched) or a receipt's; null while unmatched.
    match_type text,
    match_id uuid,
    match_version integer,
    match_payment_index integer,
    match_method_id uuid,
    constraint settlement_transactions_pkey primary key (company_id, settlement_id, position),
    constraint settlement_transactions_settlement_fkey foreign key (company_id, settlement_id)
        references settlements (company_id, id) on delete cascade,
    constraint settlement_transactions_kind_known check (kind in (
        'payment', 'refund', 'chargeback', 'fee', 'adjustment')),
    constraint settlement_transactions_match_known check (
        (match_type is null and match_id is null and match_payment_index is null)
        or (match_type in ('order', 'receipt') and match_id is not null
            and match_payment_index is not null))
);

-- A document pushed after its payout is matched by its payments' references.
create index settlement_transactions_unmatched_idx
    on settlement_transactions (company_id, provider_reference)
    where match_id is null and provider_reference is not null;
-- Two settlements claiming one payment are a conflict, found by this index.
create index settlement_transactions_match_idx
    on settlement_transactions (company_id, match_type, match_id, match_payment_index)
    where match_id is not null;

-- Vendors push payouts and connectors read them, by default: clients that hold every scope
-- their kind had by default get these too; one made with fewer scopes on purpose keeps
-- exactly those.
update clients
set scopes = scopes || array['settlements:read']
where kind = 'connector'
  and scopes @> array['customers:read', 'products:read', 'orders:read', 'receipts:read',
                      'settings:read', 'events:read', 'bookings:write']
  and not scopes @> array['settlements:read'];
update clients
set scopes = scopes || array['settlements:read', 'settlements:write']
where kind = 'vendor'
  and scopes @> array['customers:read', 'customers:write', 'products:read', 'products:write',
                      'orders:read', 'orders:write', 'receipts:read', 'receipts:write',
                      'settings:read', 'settings:write']
  and not scopes @> array['settlements:write'];
