ALTER TABLE events DROP COLUMN children;
