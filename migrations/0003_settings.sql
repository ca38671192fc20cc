-- Settings a vendor pushes and a connector reads: VAT rates, payment methods
-- and categories. Upserted by the vendor's external_id; never deleted (a rate
-- no longer used is set inactive). `version` counts the changes of a row.

create table vat_rates (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    name text not null,
    percentage numeric(7, 4) not null,
    category text not null,
    country text not null default 'NL',
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint vat_rates_pkey primary key (company_id, id),
    constraint vat_rates_external_id_key unique (company_id, external_id),
    constraint vat_rates_company_fkey foreign key (company_id) references companies (id),
    constraint vat_rates_category_known check (category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope')),
    constraint vat_rates_percentage_range check (percentage >= 0 and percentage <= 100)
);
create index vat_rates_updated_idx on vat_rates (company_id, updated_at, id);

create table payment_methods (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    name text not null,
    kind text not null,
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint payment_methods_pkey primary key (company_id, id),
    constraint payment_methods_external_id_key unique (company_id, external_id),
    constraint payment_methods_company_fkey foreign key (company_id) references companies (id),
    constraint payment_methods_kind_known check (kind in (
        'cash', 'debit_card', 'credit_card', 'ideal', 'bank_transfer', 'paypal', 'gift_card',
        'voucher', 'on_account', 'other'))
);
create index payment_methods_updated_idx on payment_methods (company_id, updated_at, id);

create table categories (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    name text not null,
    parent_id uuid,
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint categories_pkey primary key (company_id, id),
    constraint categories_external_id_key unique (company_id, external_id),
    constraint categories_company_fkey foreign key (company_id) references companies (id),
    constraint categories_parent_fkey foreign key (company_id, parent_id)
        references categories (company_id, id),
    constraint categories_not_own_parent check (parent_id is distinct from id)
);
create index categories_updated_idx on categories (company_id, updated_at, id);
