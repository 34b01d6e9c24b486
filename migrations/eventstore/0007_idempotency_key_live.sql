-- An append that keeps its answer in the statement that inserts its events fails as a whole
-- when a concurrent request's answer holds the key (crates/eventstore, together.rs): run
-- outside a transaction, nothing else would take its events back. SQLSTATE TS409 is read as
-- `StoreError::IdempotencyRace`.
-- VOLATILE (the default, said here so no one changes it): only a volatile call stays a
-- filter on each appended row; a stable one could be evaluated once, before the append,
-- and fail an append whose version check found nothing to insert.
CREATE OR REPLACE FUNCTION idempotency_key_live(key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'idempotency key % is held by a concurrent request', key
        USING ERRCODE = 'TS409';
END
$$;
