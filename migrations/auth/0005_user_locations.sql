-- The locations a user may sell at (api.md, "Auth and roles"); empty for every location.
ALTER TABLE users ADD COLUMN location_ids TEXT[] NOT NULL DEFAULT '{}';
