-- The relay's cursor into the events table and the stream sequence of its last
-- acknowledged publish (to notice a broker that lost messages).
CREATE TABLE relay_checkpoints (
    relay            text        PRIMARY KEY,
    tx_id            xid8        NOT NULL DEFAULT '0',
    position         bigint      NOT NULL DEFAULT 0,
    last_stream_seq  bigint      NOT NULL DEFAULT 0,
    last_event_id    uuid,
    -- Bumped each time the relay republishes after a broker loss; part of the message id
    -- then, so the broker's duplicate window cannot swallow the republished events.
    heal_epoch       integer     NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Events a consumer has handled, written in the same transaction as the handler's
-- effects so that a redelivered message has no second effect.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
