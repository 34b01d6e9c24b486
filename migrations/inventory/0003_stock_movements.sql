-- Every movement of every stock item, written inline with it: the history that says why a
-- level is what it is, and the level at any past moment (`on_hand_after` of the last
-- movement at or before it). `version` is the movement's position in its item's stream.
CREATE TABLE stock_movements (
    product_id     text        NOT NULL,
    location_id    text        NOT NULL,
    version        bigint      NOT NULL,
    kind           text        NOT NULL,
    quantity       numeric     NOT NULL,
    unit_cost      numeric     NOT NULL,
    on_hand_after  numeric     NOT NULL,
    avg_cost_after numeric     NOT NULL,
    reference      text,
    reason         text,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, location_id, version)
);

CREATE INDEX stock_movements_by_time ON stock_movements (product_id, location_id, occurred_at DESC, version DESC);
CREATE INDEX stock_movements_by_reference ON stock_movements (reference) WHERE reference IS NOT NULL;
CREATE INDEX stock_movements_as_of ON stock_movements (occurred_at);
