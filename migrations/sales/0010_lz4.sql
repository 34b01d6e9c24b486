-- A sale's document is compressed with lz4 like its event's payload (eventstore 0006).
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE sales ALTER COLUMN document SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: sale documents stay compressed with pglz';
END
$$;
