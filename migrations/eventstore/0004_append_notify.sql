-- The log's readers (the relay, the projections) wait for this instead of polling: a
-- statement trigger notifies at each append, and PostgreSQL delivers one notification per
-- committing transaction (identical ones are folded) to every listener of the database.
CREATE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tillstream_events_appended', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_appended
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_appended();
