-- POS receipts (kassabonnen) and the daily revenue (dagomzet) kept up to date as they arrive.
--
-- Receipts are immutable: a row is written once, with its lines and payments, in the
-- transaction that also adds it to its day. Nothing here is ever deleted (AWR art. 52 keeps
-- receipts 7 years).
--
-- The daily revenue is maintained, not computed on read: every receipt adds its figures to
-- the rows of its business day (one for the whole company, location_key '', and one for its
-- location) with INSERT … ON CONFLICT DO UPDATE on additive numeric columns. The row lock of
-- that upsert serialises concurrent receipts of one day, so no figure is ever lost, and
-- reading a day costs the same for 20 receipts as for 20,000.

create table receipts (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    number text,
    location_id text,
    register_id text,
    -- The moment of sale, and the UTC offset it was sent with, so it can be answered as sent
    -- (in the October night the offset is what tells the two 02:30s apart).
    created_at timestamptz not null,
    utc_offset_seconds integer not null,
    business_date date not null,
    currency text not null,
    prices_include_vat boolean not null,
    cash_rounding numeric(4, 2) not null default 0,
    total_excl_vat numeric(14, 2) not null,
    total_vat numeric(14, 2) not null,
    total_incl_vat numeric(14, 2) not null,
    -- The split the day needs: revenue apart from tips, multi-purpose gift cards and deposits.
    revenue_excl_vat numeric(14, 2) not null,
    revenue_vat numeric(14, 2) not null,
    tips numeric(14, 2) not null,
    gift_cards_multi_purpose numeric(14, 2) not null,
    deposits numeric(14, 2) not null,
    -- Arrived after its day was final (closed, or past 05:00 the next morning).
    late boolean not null default false,
    -- SHA-256 of the receipt's content with amounts normalised: an identical resend has the
    -- same hash and is answered with the stored receipt; another body is refused.
    content_hash bytea not null,
    version integer not null default 1,
    received_at timestamptz not null,
    updated_at timestamptz not null,
    constraint receipts_pkey primary key (company_id, id),
    constraint receipts_external_id_key unique (company_id, external_id),
    constraint receipts_company_fkey foreign key (company_id) references companies (id),
    constraint receipts_external_id_not_blank check (btrim(external_id) <> ''),
    constraint receipts_location_not_blank check (location_id is null or btrim(location_id) <> ''),
    constraint receipts_currency_iso4217 check (currency ~ '^[A-Z]{3}$'),
    constraint receipts_totals_add_up check (total_incl_vat = total_excl_vat + total_vat),
    constraint receipts_cash_rounding_small check (cash_rounding between -0.02 and 0.02),
    constraint receipts_content_hash_is_sha256 check (octet_length(content_hash) = 32)
);
-- One index per search of SPEC "Receipts"; each ends in the keyset order of that search.
create index receipts_updated_idx on receipts (company_id, updated_at, id);
create index receipts_created_idx on receipts (company_id, created_at, id);
create index receipts_business_date_idx on receipts (company_id, business_date, created_at, id);
create index receipts_location_idx on receipts (company_id, location_id, created_at, id)
    where location_id is not null;
create index receipts_number_idx on receipts (company_id, number, created_at, id)
    where number is not null;

create table receipt_lines (
    company_id uuid not null,
    receipt_id uuid not null,
    position integer not null,
    kind text not null,
    product_code text not null,
    description text,
    category_id uuid not null,
    quantity numeric(19, 6) not null,
    unit_price numeric(19, 6) not null,
    discount numeric(19, 6) not null,
    vat_rate_id uuid,
    vat_percentage numeric(7, 4) not null,
    vat_category text not null,
    vat_country text not null,
    vat_amount numeric(14, 2) not null,
    exemption_reason text,
    total_excl_vat numeric(14, 2) not null,
    total_incl_vat numeric(14, 2) not null,
    constraint receipt_lines_pkey primary key (company_id, receipt_id, position),
    constraint receipt_lines_receipt_fkey foreign key (company_id, receipt_id)
        references receipts (company_id, id),
    constraint receipt_lines_category_fkey foreign key (company_id, category_id)
        references categories (company_id, id),
    constraint receipt_lines_vat_rate_fkey foreign key (company_id, vat_rate_id)
        references vat_rates (company_id, id),
    constraint receipt_lines_kind_known check (kind in (
        'sale', 'tip', 'gift_card_multi_purpose', 'gift_card_single_purpose', 'deposit')),
    constraint receipt_lines_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope')),
    constraint receipt_lines_amounts_add_up check (total_incl_vat = total_excl_vat + vat_amount)
);

create table receipt_payments (
    company_id uuid not null,
    receipt_id uuid not null,
    position integer not null,
    method_id uuid not null,
    amount numeric(14, 2) not null,
    change numeric(14, 2) not null default 0,
    reference text,
    constraint receipt_payments_pkey primary key (company_id, receipt_id, position),
    constraint receipt_payments_receipt_fkey foreign key (company_id, receipt_id)
        references receipts (company_id, id),
    constraint receipt_payments_method_fkey foreign key (company_id, method_id)
        references payment_methods (company_id, id),
    constraint receipt_payments_change_within_amount check (
        (amount > 0 and change between 0 and amount) or (amount <= 0 and change = 0))
);
-- `reference=` finds a receipt by a payment's terminal or provider reference.
create index receipt_payments_reference_idx on receipt_payments (company_id, reference)
    where reference is not null;

-- One row per business day for the whole company (location_key '') and one per location
-- (location_key = the receipts' location_id).
--
-- status: 'open' until final_at (05:00 local time the next day) or until the vendor closes
-- the day; then 'final'; a receipt arriving after that makes it 'revised' and adds 1 to
-- revision. Readers treat an 'open' row past its final_at as final, so the answer never
-- depends on when the background finaliser last ran.
create table daily_revenue (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    -- The day's id in the event feed.
    id uuid not null,
    status text not null default 'open',
    revision integer not null default 1,
    final_at timestamptz not null,
    closed_at timestamptz,
    finalized_at timestamptz,
    receipt_count bigint not null default 0,
    late_receipt_count bigint not null default 0,
    total_excl_vat numeric(16, 2) not null default 0,
    total_vat numeric(16, 2) not null default 0,
    revenue_excl_vat numeric(16, 2) not null default 0,
    revenue_vat numeric(16, 2) not null default 0,
    tips numeric(16, 2) not null default 0,
    gift_cards_multi_purpose numeric(16, 2) not null default 0,
    deposits numeric(16, 2) not null default 0,
    cash_rounding numeric(16, 2) not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint daily_revenue_pkey primary key (company_id, location_key, business_date),
    constraint daily_revenue_id_key unique (company_id, id),
    constraint daily_revenue_company_fkey foreign key (company_id) references companies (id),
    constraint daily_revenue_status_known check (status in ('open', 'final', 'revised')),
    constraint daily_revenue_revision_positive check (revision >= 1),
    constraint daily_revenue_revised_after_final check ((status = 'revised') = (revision > 1))
);
-- The finaliser's one statement: every open day whose final_at has passed.
create index daily_revenue_due_idx on daily_revenue (final_at) where status = 'open';

create table daily_revenue_vat_rates (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    vat_category text not null,
    vat_percentage numeric(7, 4) not null,
    vat_country text not null,
    base numeric(16, 2) not null,
    vat numeric(16, 2) not null,
    constraint daily_revenue_vat_rates_pkey primary key (
        company_id, location_key, business_date, vat_category, vat_percentage, vat_country),
    constraint daily_revenue_vat_rates_day_fkey foreign key (company_id, location_key, business_date)
        references daily_revenue (company_id, location_key, business_date)
);

create table daily_revenue_categories (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    category_id uuid not null,
    total_excl_vat numeric(16, 2) not null,
    total_vat numeric(16, 2) not null,
    constraint daily_revenue_categories_pkey primary key (
        company_id, location_key, business_date, category_id),
    constraint daily_revenue_categories_day_fkey foreign key (company_id, location_key, business_date)
        references daily_revenue (company_id, location_key, business_date),
    constraint daily_revenue_categories_category_fkey foreign key (company_id, category_id)
        references categories (company_id, id)
);

create table daily_revenue_payments (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    method_id uuid not null,
    amount numeric(16, 2) not null,
    constraint daily_revenue_payments_pkey primary key (
        company_id, location_key, business_date, method_id),
    constraint daily_revenue_payments_day_fkey foreign key (company_id, location_key, business_date)
        references daily_revenue (company_id, location_key, business_date),
    constraint daily_revenue_payments_method_fkey foreign key (company_id, method_id)
        references payment_methods (company_id, id)
);
