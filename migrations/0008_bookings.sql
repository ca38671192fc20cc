-- Bookings: what a bookkeeping connector posted to its accounting package (SPEC "For
-- connectors"), and the indexes the connectors' searches need.
--
-- A booking names one version of one document: an order version, a receipt (always version
-- 1) or a business day's revision (`daily_revenue.id`, which is per company or location).
-- It records the package (`exact-online`), the connector's own reference (a journal entry
-- number) and the client that posted it. Bookings are facts about the books and are never
-- changed or deleted; a correction is a booking of the newer version.
--
-- "Changed since booked by P" compares the document's current version with the latest
-- version P booked; the filters work per package, not per client, because it is the
-- package's books that must match the document (a connector reinstalled under a new client
-- must not book everything again).

create table bookings (
    company_id uuid not null,
    id uuid not null,
    -- The collection of the booked document, as in its path and in the event feed.
    resource text not null,
    resource_id uuid not null,
    -- The order version, receipt version or day revision that was booked.
    version integer not null,
    package text not null,
    reference text not null,
    client_id uuid not null,
    created_at timestamptz not null default now(),
    constraint bookings_pkey primary key (company_id, id),
    constraint bookings_company_fkey foreign key (company_id) references companies (id),
    constraint bookings_client_fkey foreign key (client_id) references clients (id),
    constraint bookings_resource_known check (resource in ('orders', 'receipts', 'daily_revenue')),
    constraint bookings_version_positive check (version >= 1),
    constraint bookings_package_format check (package ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    constraint bookings_reference_not_blank check (
        btrim(reference) <> '' and length(reference) <= 255),
    -- Re-posting the same booking finds this row instead of adding one. Its column order also
    -- serves every other read by document: a page's bookings (company, resource, ids), and
    -- per document and package the latest booked version (the last entry of that range), which
    -- `not_booked_by` and `changed_since_booked` probe for each listed document.
    constraint bookings_booking_key unique (
        company_id, resource, resource_id, package, version, reference)
);

-- The reference search (`GET …/search?reference=`) by a booking's reference.
create index bookings_reference_idx on bookings (company_id, reference);

-- The reference search by number and payment reference is served by the indexes of 0005 to
-- 0007 (orders_number_idx, receipts_number_idx, customers_number_idx and the two payment
-- reference indexes); by our id and external id by the primary and unique keys.
