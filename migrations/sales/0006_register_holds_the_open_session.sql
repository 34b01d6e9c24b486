-- The register's row holds its open session and that session's running figures: a document
-- locks and writes the one row it writes anyway (the journal's head), and a close that
-- commits first is seen by every document waiting on that row.
ALTER TABLE registers
    ADD COLUMN open_session_id text,
    ADD COLUMN open_totals jsonb NOT NULL DEFAULT '{}';
UPDATE registers r SET open_session_id = s.id, open_totals = s.totals
FROM sessions s WHERE s.register_id = r.id AND s.status = 'open';
