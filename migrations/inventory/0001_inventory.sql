-- Inventory's read models. `locations` and `stock_levels` are written inline with the
-- commands (read your writes); `known_products` follows the catalog's events.
CREATE TABLE locations (
    id         text        PRIMARY KEY,
    code       text        NOT NULL UNIQUE,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE known_products (
    id            text    PRIMARY KEY,
    sku           text    NOT NULL,
    reorder_point numeric
);

CREATE TABLE stock_levels (
    product_id  text        NOT NULL,
    location_id text        NOT NULL,
    on_hand     numeric     NOT NULL,
    avg_cost    numeric     NOT NULL,
    version     bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, location_id)
);
