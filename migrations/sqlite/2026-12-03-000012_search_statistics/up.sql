-- The PostgreSQL migration of this version keeps a larger histogram of the search text for its
-- planner. SQLite's search reads its trigram table in start order and plans nothing from it.
-- Kept so both stores count the same versions.
SELECT 1;
