-- Search by index: a trigram GIN index over the events' folded search text, which `LIKE
-- '%…%'` uses directly, kept in step by PostgreSQL itself in the writing transaction. pg_trgm is
-- a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX events_search_trgm ON events USING gin (search_text gin_trgm_ops);
