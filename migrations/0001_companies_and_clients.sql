-- Companies (administraties) and the OAuth clients that may act on them.
--
-- Every constraint is named so that the store can map a violation to a precise
-- error by name. Tables that hold company data lead their primary key with
-- company_id so the schema can later be distributed by company.

create table companies (
    id uuid not null,
    name text not null,
    timezone text not null default 'Europe/Amsterdam',
    currency text not null default 'EUR',
    business_day_cutoff time not null default '00:00',
    created_at timestamptz not null default now(),
    constraint companies_pkey primary key (id),
    constraint companies_name_not_blank check (btrim(name) <> ''),
    constraint companies_currency_iso4217 check (currency ~ '^[A-Z]{3}$')
);

create table clients (
    id uuid not null,
    name text not null,
    kind text not null,
    scopes text[] not null,
    -- SHA-256 of the secret. Secrets are 256 random bits, so a fast hash is
    -- enough: there is nothing to guess that a slow hash would protect.
    secret_hash bytea not null,
    -- Bumped by every rotation; tokens carry the version they were issued
    -- under, so a rotation ends the old tokens at once.
    secret_version integer not null default 1,
    rate_limit_per_second integer,
    rate_limit_burst integer,
    created_at timestamptz not null default now(),
    revoked_at timestamptz,
    constraint clients_pkey primary key (id),
    constraint clients_kind_known check (kind in ('admin', 'vendor', 'connector')),
    constraint clients_name_not_blank check (btrim(name) <> ''),
    constraint clients_rate_limit_positive check (
        (rate_limit_per_second is null or rate_limit_per_second > 0)
        and (rate_limit_burst is null or rate_limit_burst > 0)
    )
);

create table client_companies (
    company_id uuid not null,
    client_id uuid not null,
    granted_at timestamptz not null default now(),
    constraint client_companies_pkey primary key (company_id, client_id),
    constraint client_companies_company_fkey foreign key (company_id) references companies (id),
    constraint client_companies_client_fkey foreign key (client_id) references clients (id)
);

create index client_companies_client_idx on client_companies (client_id);
