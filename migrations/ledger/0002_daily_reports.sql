-- The daily report (Z-report) per location and day (UTC), kept current event by event in
-- the transaction that books each sale, return and void, so closing a day reads one row.
CREATE TABLE daily_reports (
    day         date    NOT NULL,
    location_id text    NOT NULL,
    sales_count integer NOT NULL DEFAULT 0,
    gross       numeric NOT NULL DEFAULT 0,
    discounts   numeric NOT NULL DEFAULT 0,
    net         numeric NOT NULL DEFAULT 0,
    tax         numeric NOT NULL DEFAULT 0,
    returns     numeric NOT NULL DEFAULT 0,
    total       numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location_id)
);

-- Takings per tender: payments net of change, less refunds.
CREATE TABLE daily_tenders (
    day         date    NOT NULL,
    location_id text    NOT NULL,
    tender      text    NOT NULL,
    amount      numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location_id, tender)
);

-- What each sale added to its day, so a void takes exactly that away again.
CREATE TABLE report_sales (
    sale_id     text    PRIMARY KEY,
    day         date    NOT NULL,
    location_id text    NOT NULL,
    gross       numeric NOT NULL,
    discounts   numeric NOT NULL,
    net         numeric NOT NULL,
    tax         numeric NOT NULL,
    total       numeric NOT NULL,
    tenders     jsonb   NOT NULL
);
