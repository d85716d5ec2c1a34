-- The SQLite migration of this version keys its trigram table by a search key in start order.
-- PostgreSQL needs no key: its trigram GIN index serves the LIKE, and the planner chooses
-- between it and walking the start-order index. Kept so both stores count the same versions.
SELECT 1;
