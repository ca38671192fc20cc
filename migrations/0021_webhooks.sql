-- Webhooks (SPEC "Webhooks"): the change feed, pushed. The feed stays the source of truth;
-- the outbox is filled from it and delivered from it.
--
-- Filling: every endpoint remembers how far into its company's feed it has taken events
-- (feed_txid, feed_seq). A pump reads the feed past that position, below the snapshot
-- horizon exactly as `GET …/events` does (see 0002_events.sql), inserts one delivery per
-- event the endpoint subscribed to, and moves the position, in one statement. The endpoint
-- row is locked FOR UPDATE SKIP LOCKED meanwhile, so two nodes never fill one endpoint at
-- once; the unique (endpoint_id, event_txid, event_seq) makes a double fill harmless anyway.
--
-- Delivering: one node at a time delivers one endpoint, in feed order, holding a lease
-- (lease_owner, lease_until) it claims FOR UPDATE SKIP LOCKED and renews before each attempt.
-- A node that dies leaves a lease that runs out (or that the same node, restarted, drops at
-- once); the attempt it was making is made again: at least once. A failed attempt pauses the
-- endpoint (paused_until) until that delivery's next attempt, so a receiver never gets an
-- event before an earlier one it has not yet accepted.

create table webhook_endpoints (
    id uuid primary key,
    company_id uuid not null references companies (id),
    -- The connector client that subscribed; it alone sees and manages the endpoint.
    client_id uuid not null references clients (id) on delete cascade,
    url text not null,
    -- The event types to deliver; empty: all.
    event_types text[] not null default '{}',
    description text,
    disabled boolean not null default false,
    -- Why it is disabled: 'by_client' or 'failing' (five days of failed attempts).
    disabled_reason text,
    version integer not null default 1,
    -- The signing secret (`whsec_…`). Kept as is: a receiver verifies an HMAC with it, so
    -- Koppel must be able to compute one; it is never answered again after creation or
    -- rotation, and never logged.
    secret text not null,
    -- The secret before the last rotation, which keeps signing (as a second signature) until
    -- previous_secret_until.
    previous_secret text,
    previous_secret_until timestamptz,
    -- Since when every attempt failed; null after a success.
    failing_since timestamptz,
    -- No attempt before this moment (the next attempt of the delivery that failed).
    paused_until timestamptz,
    feed_txid xid8 not null,
    feed_seq bigint not null default 0,
    -- The snapshot of the transaction that created the endpoint: events it could see had
    -- been committed before the endpoint existed and are not delivered. With the position
    -- starting at that snapshot's xmin, an endpoint gets exactly the events committed after
    -- it was created.
    created_snapshot pg_snapshot not null,
    lease_owner text,
    lease_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint webhook_endpoints_disabled_reason_check
        check (disabled_reason in ('by_client', 'failing')),
    constraint webhook_endpoints_disabled_check check (disabled = (disabled_reason is not null))
);

create index webhook_endpoints_by_client on webhook_endpoints (company_id, client_id, created_at, id);

create table webhook_deliveries (
    id uuid primary key,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    company_id uuid not null,
    -- The event, copied from the feed, so the body is the same at every attempt.
    event_txid bigint not null,
    event_seq bigint not null,
    event_type text not null,
    resource text not null,
    resource_id uuid not null,
    version integer not null,
    occurred_at timestamptz not null,
    -- 'pending' (to be attempted at next_attempt_at), 'succeeded' or 'failed' (given up).
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    finished_at timestamptz,
    constraint webhook_deliveries_status_check
        check (status in ('pending', 'succeeded', 'failed')),
    constraint webhook_deliveries_event_key unique (endpoint_id, event_txid, event_seq)
);

-- An endpoint's pending deliveries in feed order: what its deliverer takes next.
create index webhook_deliveries_pending
    on webhook_deliveries (endpoint_id, event_txid, event_seq) where status = 'pending';
-- Finished deliveries by age, for clean-up.
create index webhook_deliveries_finished
    on webhook_deliveries (finished_at) where status <> 'pending';

create table webhook_attempts (
    delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
    attempt integer not null,
    attempted_at timestamptz not null,
    -- The receiver's HTTP status; null when none came (refused, timed out, not allowed).
    status_code integer,
    latency_ms integer not null,
    error text,
    constraint webhook_attempts_pkey primary key (delivery_id, attempt)
);

-- Connectors subscribe by default (SPEC "Webhooks"): connector clients that hold every scope
-- a connector had by default get the webhook scopes too; one made with fewer scopes on
-- purpose keeps exactly those.
update clients
set scopes = scopes || array['webhooks:read', 'webhooks:write']
where kind = 'connector'
  and scopes @> array['customers:read', 'products:read', 'orders:read', 'receipts:read',
                      'settings:read', 'events:read', 'bookings:write']
  and not scopes @> array['webhooks:read'];
