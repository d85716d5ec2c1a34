-- Evidence and verification: what shows an event happened, and who checked it.

-- The verification of an event; any later change to the event returns it to 'unverified'.
ALTER TABLE events ADD COLUMN verification_status TEXT NOT NULL DEFAULT 'unverified';
ALTER TABLE events ADD COLUMN verified_by TEXT;
ALTER TABLE events ADD COLUMN verified_at TIMESTAMP;
ALTER TABLE events ADD COLUMN verification_note TEXT;
-- How many pieces of evidence the event has, kept by the writes that add and remove them, so the
-- flag no_evidence reads from the event's own row.
ALTER TABLE events ADD COLUMN evidence_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_verification ON events (verification_status, starts_at);

-- A file (photo, sign-in sheet, programme, press release) or a link.
CREATE TABLE event_evidence (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    kind TEXT NOT NULL,
    -- A file's type as its own bytes show it; null for a link.
    media_type TEXT,
    size BIGINT,
    sha256 TEXT,
    filename TEXT,
    -- A link's address; null for a file.
    url TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX event_evidence_event ON event_evidence (event_id, id);

-- A file's bytes, in chunks, so neither store is asked for one huge value and a download can be
-- streamed a chunk at a time.
CREATE TABLE evidence_chunks (
    evidence_id TEXT NOT NULL REFERENCES event_evidence (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (evidence_id, seq)
);
