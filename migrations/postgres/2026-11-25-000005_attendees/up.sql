-- Named attendees of events. The IIN itself is never stored: only its HMAC under the server's
-- iin_key (so the same person is recognised across events and departments, and can be erased)
-- and its last two digits (so people can tell namesakes apart).
CREATE TABLE attendees (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    full_name TEXT NOT NULL,
    iin_hash TEXT,
    iin_last2 TEXT,
    birth_year INTEGER,
    gender TEXT,
    organisation TEXT,
    created_at TIMESTAMP NOT NULL
);
-- A person once per event; attendees without an IIN (NULL) may repeat on both stores.
CREATE UNIQUE INDEX attendees_event_iin ON attendees (event_id, iin_hash);
-- Erasure and unique-people counts look people up by hash across events.
CREATE INDEX attendees_iin ON attendees (iin_hash);
CREATE INDEX attendees_event ON attendees (event_id, id);
