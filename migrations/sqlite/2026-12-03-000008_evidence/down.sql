DROP TABLE evidence_chunks;
DROP TABLE event_evidence;
DROP INDEX events_verification;
ALTER TABLE events DROP COLUMN evidence_count;
ALTER TABLE events DROP COLUMN verification_note;
ALTER TABLE events DROP COLUMN verified_at;
ALTER TABLE events DROP COLUMN verified_by;
ALTER TABLE events DROP COLUMN verification_status;
