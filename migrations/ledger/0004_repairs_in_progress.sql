-- Repairs in progress (1250): what each repair's fitted parts cost, until it is collected
-- (then to 5000) or cancelled (back to 1200). Written with the entries, in the consumers'
-- transactions; a part whose movement arrives after its repair's collection goes straight
-- to cost of goods sold.
CREATE TABLE repair_costs (
    repair_id text    PRIMARY KEY,
    open      numeric NOT NULL DEFAULT 0,
    collected boolean NOT NULL DEFAULT false
);
