-- Locations and their registers (SPEC "POS days, complete"), pushed by vendors like the
-- other settings: upserted by the vendor's external id, versioned, every change an event.
-- A receipt's location_id and register_id stay the vendor's codes (0007); a receipt is never
-- refused for naming a location or register Koppel does not know, and reads link it to these
-- rows by external id when they exist.

create table locations (
    company_id uuid not null references companies (id),
    id uuid not null,
    external_id text not null,
    name text not null,
    -- street, house_number, house_number_addition, postal_code, city, country.
    address jsonb,
    -- The cost centre (kostenplaats) the location's revenue is booked to.
    cost_centre text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint locations_pkey primary key (company_id, id),
    constraint locations_external_id_key unique (company_id, external_id)
);
create index locations_updated_idx on locations (company_id, updated_at, id);

create table registers (
    company_id uuid not null,
    id uuid not null,
    location_id uuid not null,
    external_id text not null,
    name text not null,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint registers_pkey primary key (company_id, id),
    -- A register code is unique within its location (two shops may both have "kassa-1").
    constraint registers_external_id_key unique (company_id, location_id, external_id),
    constraint registers_location_fkey foreign key (company_id, location_id)
        references locations (company_id, id)
);
create index registers_updated_idx on registers (company_id, location_id, updated_at, id);
