-- One row per read model: which generation of its tables is live and how far it has read.
-- Workers lock the row for each batch, which is what lets a rebuild swap generations
-- without stopping them.
CREATE TABLE projection_checkpoints (
    projection  text        PRIMARY KEY,
    generation  integer     NOT NULL DEFAULT 1,
    tx_id       xid8        NOT NULL DEFAULT '0',
    position    bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
