-- Customers, their accounts and store credit, and gift cards (decisions 0011 and 0012).

-- The master key's fingerprint, and the key itself only when it was generated here (no
-- TILLSTREAM_DATA_KEY): a configured key is never stored.
CREATE TABLE data_key (
    id          smallint PRIMARY KEY CHECK (id = 1),
    generated   bytea,
    fingerprint bytea NOT NULL
);

-- Each subject's own key (a customer's, or a sale's for its free-text customer), wrapped by
-- the master key. Erasing a customer deletes its row: nothing sealed under it opens again.
CREATE TABLE subject_keys (
    subject_id text        PRIMARY KEY,
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE customer_numbers;

-- Customers as clients read them; `personal` is sealed under the customer's key.
CREATE TABLE customers (
    id           text        PRIMARY KEY,
    number       text        NOT NULL UNIQUE,
    personal     bytea,
    credit_limit numeric     NOT NULL DEFAULT 0,
    balance      numeric     NOT NULL DEFAULT 0,
    store_credit numeric     NOT NULL DEFAULT 0,
    version      bigint      NOT NULL,
    erased       boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL
);
CREATE INDEX customers_created_at_idx ON customers (created_at DESC, id DESC);

-- The blind index: HMAC tokens of name words, the email and the phone's digits.
CREATE TABLE customer_search (
    token       bytea NOT NULL,
    customer_id text  NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (token, customer_id)
);
CREATE INDEX customer_search_customer_idx ON customer_search (customer_id);

-- What moved a customer's account or store credit, newest first on read.
CREATE TABLE account_entries (
    customer_id text        NOT NULL REFERENCES customers (id),
    seq         bigint      NOT NULL,
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    amount      numeric     NOT NULL,
    reference   text        NOT NULL,
    PRIMARY KEY (customer_id, seq)
);

CREATE TABLE gift_cards (
    id             text        PRIMARY KEY,
    code           text        NOT NULL UNIQUE,
    balance        numeric     NOT NULL,
    initial_amount numeric     NOT NULL,
    currency       text        NOT NULL,
    status         text        NOT NULL,
    customer_id    text,
    issued_at      timestamptz NOT NULL,
    document       jsonb       NOT NULL
);

-- A sale's registered customer, for the customer's history.
ALTER TABLE sales ADD COLUMN customer_id text;
CREATE INDEX sales_customer_idx ON sales (customer_id, created_at DESC) WHERE customer_id IS NOT NULL;
