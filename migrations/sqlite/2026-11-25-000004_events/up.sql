-- Events, with their audiences, partner departments, organisers and attendance breakdown in
-- tables of their own so that lists filter and reports aggregate in SQL.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    venue TEXT,
    lead_department_id TEXT NOT NULL REFERENCES departments(id),
    plan_item_id TEXT REFERENCES plan_items(id),
    planned_participants INTEGER,
    status TEXT NOT NULL,
    attendance_total INTEGER,
    attendance_basis TEXT,
    search_text TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX events_starts ON events (starts_at, id);
CREATE INDEX events_lead_starts ON events (lead_department_id, starts_at);
CREATE INDEX events_created ON events (created_at, id);
CREATE INDEX events_updated ON events (updated_at, id);
CREATE INDEX events_plan_item ON events (plan_item_id);
CREATE INDEX events_status_starts ON events (status, starts_at);

CREATE TABLE event_audiences (
    event_id TEXT NOT NULL REFERENCES events(id),
    audience TEXT NOT NULL,
    PRIMARY KEY (event_id, audience)
);
CREATE INDEX event_audiences_audience ON event_audiences (audience, event_id);

CREATE TABLE event_partners (
    event_id TEXT NOT NULL REFERENCES events(id),
    department_id TEXT NOT NULL REFERENCES departments(id),
    PRIMARY KEY (event_id, department_id)
);
CREATE INDEX event_partners_department ON event_partners (department_id, event_id);

CREATE TABLE event_organisers (
    event_id TEXT NOT NULL REFERENCES events(id),
    position INTEGER NOT NULL,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation TEXT,
    PRIMARY KEY (event_id, position)
);

CREATE TABLE event_breakdown (
    event_id TEXT NOT NULL REFERENCES events(id),
    audience TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (event_id, audience)
);
