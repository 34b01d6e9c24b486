-- An attempt is counted as a failure before its secret is checked (so a burst of parallel
-- guesses cannot all pass the count), and a successful one takes its rows back by id.
ALTER TABLE login_failures ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
