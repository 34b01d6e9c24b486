-- Product imports. A job's events are in the store (`import-<id>` streams); these are its
-- read model, written in the same transactions: the job with its counts, and its rows —
-- the uploaded data, which is too big for events, with each row's outcome.
CREATE TABLE import_jobs (
    id         text        PRIMARY KEY,
    mode       text        NOT NULL,
    status     text        NOT NULL,
    total_rows integer     NOT NULL,
    succeeded  integer     NOT NULL DEFAULT 0,
    failed     integer     NOT NULL DEFAULT 0,
    version    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_open_idx ON import_jobs (created_at) WHERE status IN ('queued', 'processing');

CREATE TABLE import_rows (
    job_id  text    NOT NULL REFERENCES import_jobs (id),
    row_no  integer NOT NULL,
    sku     text    NOT NULL,
    fields  jsonb   NOT NULL,
    -- pending, done or failed
    state   text    NOT NULL DEFAULT 'pending',
    field   text,
    message text,
    PRIMARY KEY (job_id, row_no)
);
CREATE INDEX import_rows_pending_idx ON import_rows (job_id, row_no) WHERE state = 'pending';
CREATE INDEX import_rows_sku_idx ON import_rows (job_id, sku);
