-- Sales orders (SPEC "Sales orders", W5b-d, W5h).
--
-- `orders` is the head: one row per order with our stable id, the vendor's
-- external_id, the current version and the fields the searches filter on.
-- Every version is kept in full and never changed afterwards: its header in
-- `order_versions` and its lines, costs, payments and VAT breakdown in tables
-- keyed by (company_id, order_id, version, position). A resend with another
-- body appends a version and moves the head; nothing is ever deleted, and a
-- cancellation is a status (AWR art. 52: 7 years of retention).
--
-- Two-decimal amounts are numeric(20, 2), so a total is stored and answered
-- with its cents ("12.10"); quantities and unit prices keep up to 6 decimals
-- as sent. Moments keep the offset the vendor sent, in seconds east of UTC,
-- so a document is answered as it was sent.

create table orders (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    number text,
    version integer not null,
    status text not null,
    order_date timestamptz not null,
    currency text not null,
    customer_id uuid,
    credit_of uuid,
    total_excl_vat numeric(20, 2) not null,
    total_vat numeric(20, 2) not null,
    total_incl_vat numeric(20, 2) not null,
    -- SHA-256 of the canonical validated document: an identical resend is
    -- recognised by it and changes nothing.
    content_hash bytea not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint orders_pkey primary key (company_id, id),
    constraint orders_external_id_key unique (company_id, external_id),
    constraint orders_company_fkey foreign key (company_id) references companies (id),
    constraint orders_customer_fkey foreign key (company_id, customer_id)
        references customers (company_id, id),
    constraint orders_credit_of_fkey foreign key (company_id, credit_of)
        references orders (company_id, id),
    constraint orders_not_own_credit check (credit_of is distinct from id),
    constraint orders_version_positive check (version >= 1),
    constraint orders_status_known check (status in (
        'open', 'paid', 'shipped', 'completed', 'cancelled', 'refunded')),
    constraint orders_currency_iso4217 check (currency ~ '^[A-Z]{3}$'),
    constraint orders_totals_add_up check (total_incl_vat = total_excl_vat + total_vat),
    constraint orders_hash_is_sha256 check (octet_length(content_hash) = 32)
);

-- One index per search of SPEC, each ending in the list's sort key so that a
-- page is a range scan and a deep page costs the same as the first. Lists sort
-- by (updated_at, id), or by (order_date, id) when a period is asked for.
-- `reference` by external id uses orders_external_id_key.
create index orders_updated_idx on orders (company_id, updated_at, id);
create index orders_order_date_idx on orders (company_id, order_date, id);
create index orders_number_idx on orders (company_id, number, updated_at, id);
create index orders_customer_idx on orders (company_id, customer_id, updated_at, id);
create index orders_status_idx on orders (company_id, status, updated_at, id);

create table order_versions (
    company_id uuid not null,
    order_id uuid not null,
    version integer not null,
    number text,
    status text not null,
    order_date timestamptz not null,
    order_date_offset integer not null,
    currency text not null,
    prices_include_vat boolean not null,
    customer_id uuid,
    -- The buyer as on the order (name, e-mail, addresses, VAT and KvK number,
    -- normalised); null when the order names no customer.
    customer jsonb,
    credit_of uuid,
    total_excl_vat numeric(20, 2) not null,
    total_vat numeric(20, 2) not null,
    total_incl_vat numeric(20, 2) not null,
    content_hash bytea not null,
    recorded_at timestamptz not null default now(),
    constraint order_versions_pkey primary key (company_id, order_id, version),
    constraint order_versions_order_fkey foreign key (company_id, order_id)
        references orders (company_id, id),
    constraint order_versions_customer_fkey foreign key (company_id, customer_id)
        references customers (company_id, id),
    constraint order_versions_credit_of_fkey foreign key (company_id, credit_of)
        references orders (company_id, id),
    constraint order_versions_version_positive check (version >= 1),
    constraint order_versions_status_known check (status in (
        'open', 'paid', 'shipped', 'completed', 'cancelled', 'refunded')),
    constraint order_versions_offset_range check (order_date_offset between -86399 and 86399),
    constraint order_versions_totals_add_up check (total_incl_vat = total_excl_vat + total_vat)
);

create table order_lines (
    company_id uuid not null,
    order_id uuid not null,
    version integer not null,
    position integer not null,
    product_id uuid,
    sku text,
    description text,
    quantity numeric not null,
    unit_price numeric not null,
    discount numeric not null,
    vat_rate_id uuid,
    vat_percentage numeric(7, 4) not null,
    vat_category text not null,
    vat_country text not null,
    vat_amount numeric(20, 2) not null,
    exemption_reason text,
    total_excl_vat numeric(20, 2) not null,
    total_incl_vat numeric(20, 2) not null,
    category_id uuid,
    constraint order_lines_pkey primary key (company_id, order_id, version, position),
    constraint order_lines_version_fkey foreign key (company_id, order_id, version)
        references order_versions (company_id, order_id, version),
    constraint order_lines_product_fkey foreign key (company_id, product_id)
        references products (company_id, id),
    constraint order_lines_vat_rate_fkey foreign key (company_id, vat_rate_id)
        references vat_rates (company_id, id),
    constraint order_lines_category_fkey foreign key (company_id, category_id)
        references categories (company_id, id),
    constraint order_lines_product_named check (product_id is not null or sku is not null),
    constraint order_lines_scale check (
        scale(quantity) <= 6 and scale(unit_price) <= 6 and scale(discount) <= 6),
    constraint order_lines_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope')),
    constraint order_lines_incl_is_excl_plus_vat check (
        total_incl_vat = total_excl_vat + vat_amount)
);

create table order_costs (
    company_id uuid not null,
    order_id uuid not null,
    version integer not null,
    position integer not null,
    kind text not null,
    description text,
    amount_excl_vat numeric(20, 2) not null,
    vat_rate_id uuid,
    vat_percentage numeric(7, 4) not null,
    vat_category text not null,
    vat_country text not null,
    vat_amount numeric(20, 2) not null,
    exemption_reason text,
    amount_incl_vat numeric(20, 2) not null,
    constraint order_costs_pkey primary key (company_id, order_id, version, position),
    constraint order_costs_version_fkey foreign key (company_id, order_id, version)
        references order_versions (company_id, order_id, version),
    constraint order_costs_vat_rate_fkey foreign key (company_id, vat_rate_id)
        references vat_rates (company_id, id),
    constraint order_costs_kind_known check (kind in (
        'shipping', 'payment', 'discount', 'surcharge', 'other', 'rounding')),
    constraint order_costs_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope')),
    constraint order_costs_incl_is_excl_plus_vat check (
        amount_incl_vat = amount_excl_vat + vat_amount)
);

create table order_payments (
    company_id uuid not null,
    order_id uuid not null,
    version integer not null,
    position integer not null,
    method_id uuid not null,
    amount numeric(20, 2) not null,
    reference text,
    paid_at timestamptz,
    paid_at_offset integer,
    constraint order_payments_pkey primary key (company_id, order_id, version, position),
    constraint order_payments_version_fkey foreign key (company_id, order_id, version)
        references order_versions (company_id, order_id, version),
    constraint order_payments_method_fkey foreign key (company_id, method_id)
        references payment_methods (company_id, id),
    constraint order_payments_paid_at_with_offset check ((paid_at is null) = (paid_at_offset is null))
);
-- `reference=` finds an order by any payment reference it carried, in any version.
create index order_payments_reference_idx on order_payments (company_id, reference, order_id)
    where reference is not null;

create table order_vat_breakdown (
    company_id uuid not null,
    order_id uuid not null,
    version integer not null,
    position integer not null,
    category text not null,
    percentage numeric(7, 4) not null,
    country text not null,
    base numeric(20, 2) not null,
    vat numeric(20, 2) not null,
    constraint order_vat_breakdown_pkey primary key (company_id, order_id, version, position),
    constraint order_vat_breakdown_version_fkey foreign key (company_id, order_id, version)
        references order_versions (company_id, order_id, version),
    constraint order_vat_breakdown_category_known check (category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope'))
);
