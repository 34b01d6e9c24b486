-- Subscriptions: the read model of the subscription streams (the secret with it, since it
-- signs every delivery; it never leaves this database but in the answer that created it).
CREATE TABLE subscriptions (
    id text PRIMARY KEY,
    url text NOT NULL,
    event_types text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,
    created_at timestamptz NOT NULL,
    removed_at timestamptz
);

CREATE INDEX subscriptions_listed ON subscriptions (created_at DESC, id DESC)
    WHERE removed_at IS NULL;

-- Deliveries: one event for one subscription, and where its sending stands. A work queue,
-- not a record of the business: attempts are not events. `body` is fixed when the event
-- arrives, so every attempt sends (and signs) the same bytes. A sender claims a due row by
-- moving `lease_until` forward under a fresh `claim` id, and records its attempt only
-- while that claim is still the row's; a sender that dies leaves the lease to run out, and
-- the row is sent again. A manual retry of a row in flight is `retry_requested`, made due
-- again when the attempt in flight is recorded.
CREATE TABLE deliveries (
    id text PRIMARY KEY,
    subscription_id text NOT NULL REFERENCES subscriptions (id),
    event_id text NOT NULL,
    event_type text NOT NULL,
    body bytea NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status_code integer,
    last_error text,
    next_attempt_at timestamptz,
    lease_until timestamptz NOT NULL DEFAULT '-infinity',
    claim uuid,
    retry_requested boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (subscription_id, event_id)
);

-- What is due, per subscription, oldest first; and when the next one falls due.
CREATE INDEX deliveries_due ON deliveries (subscription_id, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX deliveries_next ON deliveries (next_attempt_at) WHERE status = 'pending';
-- What a subscription has in flight (leases still running).
CREATE INDEX deliveries_leased ON deliveries (subscription_id, lease_until)
    WHERE status = 'pending';
-- A subscription's log, newest first.
CREATE INDEX deliveries_log ON deliveries (subscription_id, created_at DESC, id DESC);
-- Settled deliveries, oldest first, for pruning past the retention.
CREATE INDEX deliveries_settled ON deliveries (created_at) WHERE status <> 'pending';
