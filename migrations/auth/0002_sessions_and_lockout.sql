-- PIN login for tills; the PIN is an Argon2id hash like the password.
ALTER TABLE users ADD COLUMN pin_hash text;

-- Refresh tokens. Only a SHA-256 of the token is kept (it is 256 random bits, so a fast hash
-- is enough). A family is one login's chain of rotations: presenting a spent token again
-- means it was stolen or replayed, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    family_id  text        NOT NULL,
    user_id    text        NOT NULL,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_live_by_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Failed logins inside the lockout window, per username (`user:<name>`) and per client
-- address (`addr:<ip>`). Rows older than the window are deleted as new ones arrive.
CREATE TABLE login_failures (
    subject   text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_subject ON login_failures (subject, failed_at);
