-- Users as the auth service reads them at login, written with each user event.
CREATE TABLE users (
    id            text        PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    role          text        NOT NULL,
    disabled      boolean     NOT NULL DEFAULT false,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Ed25519 signing keys. The newest signs; older ones keep verifying until their tokens
-- have expired. The private part never leaves this database.
CREATE TABLE signing_keys (
    kid        text        PRIMARY KEY,
    seed       bytea       NOT NULL,
    public_key bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
