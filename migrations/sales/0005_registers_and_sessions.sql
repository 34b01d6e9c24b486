-- Registers, their sessions and the fiscal journal (api.md, "Registers, sessions and the
-- fiscal journal"). The register row is the journal's head and the Z counter: every
-- document on a register locks it to take the next `seq`, so numbering has no gaps and
-- closes count from 1 in order.
CREATE TABLE registers (
    id            text PRIMARY KEY,
    location_id   text        NOT NULL,
    code          text        NOT NULL,
    name          text        NOT NULL,
    journal_seq   bigint      NOT NULL DEFAULT 0,
    journal_hash  text        NOT NULL DEFAULT repeat('0', 64),
    z_count       integer     NOT NULL DEFAULT 0,
    grand_total   numeric     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (location_id, code)
);

-- A session and its running figures (`totals`, kept current by each document in its own
-- transaction, so a report or a close reads one row).
CREATE TABLE sessions (
    id             text PRIMARY KEY,
    register_id    text        NOT NULL REFERENCES registers (id),
    location_id    text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('open', 'closed')),
    opened_by      text        NOT NULL,
    opened_at      timestamptz NOT NULL,
    opening_float  numeric     NOT NULL,
    totals         jsonb       NOT NULL DEFAULT '{}',
    closed_by      text,
    closed_at      timestamptz,
    z_report       jsonb,
    approvals      jsonb       NOT NULL DEFAULT '[]'
);
-- One open session per register, whatever races to open one.
CREATE UNIQUE INDEX sessions_one_open ON sessions (register_id) WHERE status = 'open';
CREATE INDEX sessions_by_register ON sessions (register_id, opened_at DESC);
CREATE INDEX sessions_by_opened ON sessions (opened_at DESC);

CREATE TABLE cash_movements (
    id          text PRIMARY KEY,
    session_id  text        NOT NULL REFERENCES sessions (id),
    kind        text        NOT NULL CHECK (kind IN ('paid_in', 'paid_out')),
    amount      numeric     NOT NULL,
    reason      text        NOT NULL,
    by_user     text        NOT NULL,
    at          timestamptz NOT NULL
);

CREATE TABLE journal_entries (
    register_id  text        NOT NULL REFERENCES registers (id),
    seq          bigint      NOT NULL,
    kind         text        NOT NULL,
    document_id  text        NOT NULL,
    recorded_at  timestamptz NOT NULL,
    content      text        NOT NULL,
    prev_hash    text        NOT NULL,
    hash         text        NOT NULL,
    PRIMARY KEY (register_id, seq)
);
