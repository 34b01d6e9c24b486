-- A gift card's row and a customer's row are their streams' state, written with every event
-- under the row's lock: they hold the stream's version, so a draw decides on the row instead
-- of loading the stream (decision 0011).
ALTER TABLE gift_cards ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN account_version bigint NOT NULL DEFAULT 0;
UPDATE gift_cards g SET version = coalesce(
    (SELECT max(version) FROM events e WHERE e.stream_id = 'giftcard-' || g.id), 0);
UPDATE customers c SET account_version = coalesce(
    (SELECT max(version) FROM events e WHERE e.stream_id = 'account-' || c.id), 0);
