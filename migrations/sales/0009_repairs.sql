-- Repairs (decision 0013): the workshop's read model, written with each event in its
-- transaction, and a counter per location for readable numbers.
CREATE TABLE repairs (
    id          text        PRIMARY KEY,
    number      text        NOT NULL UNIQUE,
    status      text        NOT NULL,
    customer_id text        NOT NULL,
    location_id text        NOT NULL,
    created_at  timestamptz NOT NULL,
    version     bigint      NOT NULL,
    document    jsonb       NOT NULL
);
CREATE INDEX repairs_board_idx ON repairs (status, created_at DESC, id DESC);
CREATE INDEX repairs_customer_idx ON repairs (customer_id, created_at DESC, id DESC);
CREATE INDEX repairs_location_idx ON repairs (location_id, created_at DESC, id DESC);
CREATE INDEX repairs_created_idx ON repairs (created_at DESC, id DESC);

CREATE TABLE repair_number_counters (
    location_id text   PRIMARY KEY,
    last        bigint NOT NULL
);

-- A sale that collects a repair names it; a repair is collected by one sale only.
ALTER TABLE sales ADD COLUMN repair_id text;
CREATE UNIQUE INDEX sales_repair_idx ON sales (repair_id) WHERE repair_id IS NOT NULL;
