-- Every manager's approval a sale used, by its id: written in the sale's transaction, so an
-- approval is spent exactly when its sale is recorded, and a second use (on this replica or
-- another) collides here and is refused.
CREATE TABLE approvals_used (
    approval_id text PRIMARY KEY,
    action      text        NOT NULL,
    used_by     text        NOT NULL,
    used_at     timestamptz NOT NULL DEFAULT now()
);
