-- Idempotency keys: a POST sent again with the same Idempotency-Key and body
-- replays the first answer instead of acting twice (SPEC "Limits").
--
-- A row is claimed (inserted with a null status) before the request runs and
-- completed with the answer afterwards; a request that finds a claimed row
-- waits for it. A claim whose owner died is taken over once locked_until has
-- passed. Keys belong to a client, not a company: one request may touch
-- several companies, or none (the admin API).

create table idempotency_keys (
    client_id uuid not null,
    key text not null,
    -- SHA-256 of method, path and query, and body: the same key with another
    -- request is refused rather than replayed.
    request_hash bytea not null,
    -- Set by the request that claimed the key; only it may complete or release it.
    owner uuid not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    locked_until timestamptz not null,
    -- The stored answer; all three are null while the request is in progress.
    status smallint,
    headers jsonb,
    body bytea,
    completed_at timestamptz,
    constraint idempotency_keys_pkey primary key (client_id, key),
    constraint idempotency_keys_client_fkey foreign key (client_id) references clients (id),
    constraint idempotency_keys_key_sane check (
        octet_length(key) between 1 and 255 and key ~ '^[\x20-\x7e]+$'
    ),
    constraint idempotency_keys_hash_is_sha256 check (octet_length(request_hash) = 32),
    constraint idempotency_keys_answer_complete check (
        (status is null) = (headers is null)
        and (status is null) = (body is null)
        and (status is null) = (completed_at is null)
    ),
    constraint idempotency_keys_status_stored check (status is null or status between 200 and 499)
);

-- The clean-up deletes by expiry.
create index idempotency_keys_expires_idx on idempotency_keys (expires_at);
