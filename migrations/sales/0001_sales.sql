-- Sales' copies of other services' data (so a sale never waits on another service) and
-- its own read model of sales, written inline with the sale.
CREATE TABLE catalog_products (
    id        text    PRIMARY KEY,
    sku       text    NOT NULL,
    name      text    NOT NULL,
    price     numeric NOT NULL,
    currency  text    NOT NULL,
    tax_rate  numeric NOT NULL,
    barcodes  text[]  NOT NULL DEFAULT '{}',
    status    text    NOT NULL DEFAULT 'active'
);
CREATE INDEX catalog_products_sku_idx ON catalog_products (sku);
CREATE INDEX catalog_products_barcodes_idx ON catalog_products USING gin (barcodes);

CREATE TABLE known_locations (
    id   text PRIMARY KEY,
    code text NOT NULL
);

-- The next sale number per location and day; bumped in the sale's transaction, so numbers
-- are unique, increasing and never reused (a rolled-back sale leaves no gap either).
CREATE TABLE sale_number_counters (
    location_id text    NOT NULL,
    day         date    NOT NULL,
    last        bigint  NOT NULL,
    PRIMARY KEY (location_id, day)
);

CREATE TABLE sales (
    id               text        PRIMARY KEY,
    sale_number      text        NOT NULL UNIQUE,
    location_id      text        NOT NULL,
    created_at       timestamptz NOT NULL,
    ledger_status    text        NOT NULL DEFAULT 'pending',
    ledger_entry_ids text[]      NOT NULL DEFAULT '{}',
    document         jsonb       NOT NULL
);
CREATE INDEX sales_created_at_idx ON sales (created_at DESC);
