-- The year's action plan and its numbered items, which events fulfil.
CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    title TEXT NOT NULL,
    department_id TEXT NOT NULL REFERENCES departments(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX plans_year ON plans (year);

CREATE TABLE plan_items (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    responsible_department_id TEXT NOT NULL REFERENCES departments(id),
    due_date DATE NOT NULL,
    target_events INTEGER NOT NULL,
    target_participants INTEGER NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, number)
);
CREATE INDEX plan_items_responsible ON plan_items (responsible_department_id);
