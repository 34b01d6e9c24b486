-- Large JSON values (a sale's payload, the answer kept under an idempotency key) are
-- compressed with lz4 instead of pglz: pglz_compress was the busiest function of the sales
-- database's backends under load (6 % of their CPU). Only new values change; old ones stay
-- readable. A server without lz4 (built without it, or older than PostgreSQL 14, which has
-- no per-column compression) keeps pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4';
        EXECUTE 'ALTER TABLE idempotency_keys ALTER COLUMN response SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: large values stay compressed with pglz';
END
$$;
