-- The append-only event log: the source of truth of a service.
--
-- Readers order by (tx_id, position), not by position alone: sequence values are taken
-- at insert time but become visible at commit time, so a plain `position > last` reader can
-- skip an event whose transaction commits after a later position. tx_id is the writing
-- transaction's id; every tx_id below pg_snapshot_xmin(pg_current_snapshot()) has finished,
-- so the rows below that horizon can no longer change (docs/architecture.md).
CREATE TABLE events (
    position       bigint GENERATED ALWAYS AS IDENTITY,
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    event_id       uuid        NOT NULL,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL DEFAULT 1,
    payload        jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (tx_id, position),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);
-- No index on event_id: ULIDs are unique by construction, consumers dedupe by event id in
-- their own inboxes, and a third index cost ~10% of the append rate (docs/performance.md).

-- Snapshots keep loading a long stream cheap: load the snapshot, fold what came after.
CREATE TABLE snapshots (
    stream_id      text        PRIMARY KEY,
    version        bigint      NOT NULL,
    schema_version integer     NOT NULL,
    state          jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now()
);

-- A command's idempotency key, written in the same transaction as its events: the same key
-- with the same request answers the stored response, with another request it is a conflict.
CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash text        NOT NULL,
    response     jsonb       NOT NULL,
    stream_id    text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- Set validation (unique SKU, barcode, username) as a unique key taken in the same
-- transaction as the append, never a read-then-write.
CREATE TABLE claims (
    claim      text        NOT NULL,
    value      text        NOT NULL,
    owner      text        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (claim, value)
);
