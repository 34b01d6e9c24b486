-- Units sold per item over the last 28 days, recomputed by the leader every few minutes
-- from `stock_movements`: reorder suggestions read it instead of summing four weeks of
-- movements for every product of a location on each request.
CREATE TABLE recent_sales (
    location_id text    NOT NULL,
    product_id  text    NOT NULL,
    sold        numeric NOT NULL,
    PRIMARY KEY (location_id, product_id)
);

-- A location's items in product order, for the suggestions' merge joins.
CREATE INDEX stock_levels_by_location ON stock_levels (location_id, product_id) INCLUDE (on_hand);

-- The supplier of each product's latest order, written with the order: suggestions name it
-- without scanning every order line of every location.
CREATE TABLE latest_suppliers (
    product_id  text        PRIMARY KEY,
    supplier_id text        NOT NULL,
    ordered_at  timestamptz NOT NULL
);

INSERT INTO latest_suppliers (product_id, supplier_id, ordered_at)
SELECT DISTINCT ON (product_id) product_id, supplier_id, ordered_at
FROM purchase_order_lines ORDER BY product_id, ordered_at DESC;

-- A location's order lines by product: what is on order there, and what was ever ordered.
CREATE INDEX purchase_order_lines_by_location
    ON purchase_order_lines (location_id, product_id) INCLUDE (quantity, received, open);
