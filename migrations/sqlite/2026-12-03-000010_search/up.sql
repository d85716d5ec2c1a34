-- Search by index: an FTS5 trigram index over the events' folded search text, so `q` finds its
-- substrings without reading every event. External content (the text stays in `events`), keyed by
-- the events' rowid, kept in step by triggers in the writing transaction.
CREATE VIRTUAL TABLE events_search USING fts5(search_text, content = 'events', tokenize = 'trigram');

CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER events_search_update AFTER UPDATE OF search_text ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO events_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

INSERT INTO events_search (events_search) VALUES ('rebuild');
