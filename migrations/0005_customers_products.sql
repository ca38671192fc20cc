-- Customers (debiteuren) and products, upserted by the vendor's external_id.
-- Never deleted: a product no longer sold is set inactive.

create table customers (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    number text,
    kind text not null default 'person',
    name text not null,
    company_name text,
    email text,
    phone text,
    vat_number text,
    coc_number text,
    billing_address jsonb,
    shipping_address jsonb,
    language text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint customers_pkey primary key (company_id, id),
    constraint customers_external_id_key unique (company_id, external_id),
    constraint customers_company_fkey foreign key (company_id) references companies (id),
    constraint customers_kind_known check (kind in ('person', 'business'))
);
create index customers_updated_idx on customers (company_id, updated_at, id);
-- Case-insensitive search by e-mail (W5a).
create index customers_email_idx on customers (company_id, lower(email), id);
create index customers_number_idx on customers (company_id, number, id);

create table products (
    company_id uuid not null,
    id uuid not null,
    external_id text not null,
    sku text,
    ean text,
    name text not null,
    category_id uuid,
    unit_price numeric(19, 6),
    prices_include_vat boolean not null default true,
    vat_rate_id uuid,
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint products_pkey primary key (company_id, id),
    constraint products_external_id_key unique (company_id, external_id),
    constraint products_company_fkey foreign key (company_id) references companies (id),
    constraint products_category_fkey foreign key (company_id, category_id)
        references categories (company_id, id),
    constraint products_vat_rate_fkey foreign key (company_id, vat_rate_id)
        references vat_rates (company_id, id)
);
create index products_updated_idx on products (company_id, updated_at, id);
-- Search by SKU (W5e); not unique, because some platforms reuse SKUs across variants.
create index products_sku_idx on products (company_id, sku, id);
