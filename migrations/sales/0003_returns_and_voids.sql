-- A sale's returns (oldest first) and whether it was voided, written with their events.
ALTER TABLE sales ADD COLUMN status text NOT NULL DEFAULT 'completed';
ALTER TABLE sales ADD COLUMN returns jsonb NOT NULL DEFAULT '[]';
