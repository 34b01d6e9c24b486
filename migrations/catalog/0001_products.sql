-- The catalog's own read model of products, written in the same transaction as the
-- product's events so a client reads its own writes.
CREATE TABLE products (
    id            text        PRIMARY KEY,
    sku           text        NOT NULL UNIQUE,
    name          text        NOT NULL,
    price         numeric     NOT NULL,
    currency      text        NOT NULL,
    tax_rate      numeric     NOT NULL,
    barcodes      text[]      NOT NULL DEFAULT '{}',
    category      text,
    reorder_point numeric,
    status        text        NOT NULL DEFAULT 'active',
    version       bigint      NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_barcodes_idx ON products USING gin (barcodes);
