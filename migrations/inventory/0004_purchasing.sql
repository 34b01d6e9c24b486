-- Purchasing, written inline with its commands (read your writes). Order numbers come from
-- a sequence: readable, never handed out twice, with a gap where a draft was refused.
CREATE SEQUENCE purchase_order_numbers;

CREATE TABLE suppliers (
    id             text    PRIMARY KEY,
    code           text    NOT NULL UNIQUE,
    name           text    NOT NULL,
    email          text,
    phone          text,
    lead_time_days integer NOT NULL,
    version        bigint  NOT NULL
);

-- `document` is the folded order (lines, receipts, invoices) as GET answers it.
CREATE TABLE purchase_orders (
    id          text        PRIMARY KEY,
    number      text        NOT NULL UNIQUE,
    status      text        NOT NULL,
    supplier_id text        NOT NULL,
    location_id text        NOT NULL,
    created_at  timestamptz NOT NULL,
    version     bigint      NOT NULL,
    document    jsonb       NOT NULL
);

CREATE INDEX purchase_orders_newest ON purchase_orders (created_at DESC, id DESC);
CREATE INDEX purchase_orders_by_supplier ON purchase_orders (supplier_id, created_at DESC);
CREATE INDEX purchase_orders_by_location ON purchase_orders (location_id, created_at DESC);

-- One row per order line, for what is on order and who supplied a product last.
-- `open`: the order was sent and still expects goods.
CREATE TABLE purchase_order_lines (
    purchase_order_id text        NOT NULL,
    line_no           integer     NOT NULL,
    product_id        text        NOT NULL,
    location_id       text        NOT NULL,
    supplier_id       text        NOT NULL,
    quantity          numeric     NOT NULL,
    received          numeric     NOT NULL,
    open              boolean     NOT NULL,
    ordered_at        timestamptz NOT NULL,
    PRIMARY KEY (purchase_order_id, line_no)
);

CREATE INDEX purchase_order_lines_on_order ON purchase_order_lines (location_id, product_id) WHERE open;
CREATE INDEX purchase_order_lines_latest ON purchase_order_lines (product_id, ordered_at DESC);
