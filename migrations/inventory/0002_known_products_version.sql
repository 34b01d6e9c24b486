-- The catalog product's stream version the copy reflects (see sales' catalog copy).
ALTER TABLE known_products ADD COLUMN version bigint NOT NULL DEFAULT 1;
