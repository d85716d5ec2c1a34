DROP TABLE event_breakdown;
DROP TABLE event_organisers;
DROP TABLE event_partners;
DROP TABLE event_audiences;
DROP TABLE events;
