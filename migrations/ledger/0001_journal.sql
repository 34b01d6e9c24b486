-- The journal as clients read it, written in the same transaction as the entry's event.
CREATE TABLE journal_entries (
    id              text        PRIMARY KEY,
    posted_at       timestamptz NOT NULL,
    source_type     text        NOT NULL,
    source_id       text        NOT NULL,
    source_event_id text        NOT NULL UNIQUE,
    memo            text        NOT NULL DEFAULT ''
);
CREATE INDEX journal_entries_source_idx ON journal_entries (source_id);

CREATE TABLE journal_lines (
    entry_id text    NOT NULL REFERENCES journal_entries (id),
    line_no  integer NOT NULL,
    account  text    NOT NULL,
    debit    numeric NOT NULL CHECK (debit >= 0),
    credit   numeric NOT NULL CHECK (credit >= 0),
    PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX journal_lines_account_idx ON journal_lines (account);
