-- When a key became the one that signs. The newest activation signs; a key superseded less
-- than an access token's lifetime ago still verifies, older ones leave the JWKS.
ALTER TABLE signing_keys ADD COLUMN activated_at timestamptz NOT NULL DEFAULT now();
UPDATE signing_keys SET activated_at = created_at;
