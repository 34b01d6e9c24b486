-- Appends are announced by the appending process after its commit (crates/eventstore,
-- wake.rs), not by a trigger inside the appending transaction: a notifying transaction
-- holds PostgreSQL's cluster-wide notify lock until its commit is flushed, which made every
-- append in the cluster commit one at a time.
DROP TRIGGER IF EXISTS events_appended ON events;
DROP FUNCTION IF EXISTS notify_events_appended();
