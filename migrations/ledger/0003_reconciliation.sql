-- How far the reconciliation of the sales stream against the journal has got: every sales
-- event up to `sequence` has its entry or is listed below.
CREATE TABLE reconciliation_cursors (
    stream   text   PRIMARY KEY,
    sequence bigint NOT NULL
);

-- Sales events older than the grace period that have no entry: the gaps. Rechecked every
-- round and removed once posted (after a dead letter is replayed, say).
CREATE TABLE unposted_sales_events (
    event_id        text        PRIMARY KEY,
    event_type      text        NOT NULL,
    sale_stream     text        NOT NULL,
    stream_sequence bigint      NOT NULL,
    published_at    timestamptz NOT NULL,
    found_at        timestamptz NOT NULL DEFAULT now()
);
