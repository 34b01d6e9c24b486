-- Search: the name folded to lower case without accents (computed by the service, so it
-- folds the same everywhere), with an index for prefixes; categories and status filter.
ALTER TABLE products ADD COLUMN search_name text NOT NULL DEFAULT '';
UPDATE products SET search_name = lower(name);
CREATE INDEX products_search_name_idx ON products (search_name text_pattern_ops);
CREATE INDEX products_category_idx ON products (lower(category));
CREATE INDEX products_status_idx ON products (status);
