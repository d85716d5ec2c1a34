-- Search in start order: the trigram table is keyed by a search key that follows each event's
-- start (seconds since 2000 times 2^31, plus the rowid, which makes it unique), so a query asking
-- for the newest or oldest matches reads them first and stops, instead of reading every match to
-- sort them. Triggers keep the key and the index in step in the writing transaction; the key is
-- stored, so VACUUM renumbering rowids changes nothing.
DROP TRIGGER events_search_insert;
DROP TRIGGER events_search_delete;
DROP TRIGGER events_search_update;
DROP TABLE events_search;

ALTER TABLE events ADD COLUMN search_key INTEGER;
UPDATE events SET search_key = (CAST(strftime('%s', starts_at) AS INTEGER) - 946684800) * 2147483648 + rowid;
CREATE UNIQUE INDEX events_search_key ON events (search_key);

CREATE VIRTUAL TABLE events_search USING fts5(
    search_text, content = 'events', content_rowid = 'search_key', tokenize = 'trigram'
);

CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    UPDATE events SET search_key = (CAST(strftime('%s', new.starts_at) AS INTEGER) - 946684800) * 2147483648 + new.rowid
     WHERE rowid = new.rowid;
END;

CREATE TRIGGER events_search_moved AFTER UPDATE OF starts_at ON events WHEN old.starts_at IS NOT new.starts_at BEGIN
    UPDATE events SET search_key = (CAST(strftime('%s', new.starts_at) AS INTEGER) - 946684800) * 2147483648 + new.rowid
     WHERE rowid = new.rowid;
END;

CREATE TRIGGER events_search_update AFTER UPDATE OF search_key, search_text ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        SELECT 'delete', old.search_key, old.search_text WHERE old.search_key IS NOT NULL;
    INSERT INTO events_search (rowid, search_text) VALUES (new.search_key, new.search_text);
END;

CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', old.search_key, old.search_text);
END;

INSERT INTO events_search (events_search) VALUES ('rebuild');
