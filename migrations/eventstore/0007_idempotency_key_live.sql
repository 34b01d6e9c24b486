-- An append that keeps its answer in the statement that inserts its events fails as a whole
-- when a concurrent request's answer holds the key (crates/eventstore, together.rs): run
-- outside a transaction, nothing else would take its events back. SQLSTATE TS409 is read as
-- `StoreError::IdempotencyRace`.
CREATE OR REPLACE FUNCTION idempotency_key_live(key text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'idempotency key % is held by a concurrent request', key
        USING ERRCODE = 'TS409';
END
$$;
