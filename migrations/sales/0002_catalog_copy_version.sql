-- The catalog product's stream version the copy reflects: change events apply only on top
-- of the step before them, whatever order redelivery brings them in.
ALTER TABLE catalog_products ADD COLUMN version bigint NOT NULL DEFAULT 1;
