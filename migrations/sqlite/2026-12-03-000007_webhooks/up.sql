-- Webhooks: subscriptions, the outbox written in the transaction of each change, and the
-- delivery log.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    -- The account or client that manages it: deliveries carry only what it may read.
    owner_id TEXT NOT NULL,
    url TEXT NOT NULL,
    -- Space-separated event types; empty for every type.
    event_types TEXT NOT NULL,
    description TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    -- Encrypted (ChaCha20-Poly1305 under a key outside the database), never in the clear.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    -- The first failure since the last success: five days of failing disables the subscription.
    failing_since TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner_id);

-- The outbox: one row per message and subscription, written in the change's own transaction.
CREATE TABLE webhook_messages (
    seq INTEGER PRIMARY KEY NOT NULL,
    -- webhook-id: the same on every attempt.
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    -- The record a message is about (`event:ID`): one subscription's messages about one record are
    -- delivered in order.
    subject TEXT NOT NULL,
    -- The body exactly as delivered, rendered when the change committed.
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- Set while an instance delivers it; a crashed instance's lease runs out and another takes over.
    locked_until TIMESTAMP,
    -- Which claim holds the lease: only that claim may record the attempt's end.
    claim_token TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
CREATE INDEX webhook_messages_subject ON webhook_messages (subscription_id, subject, seq);
CREATE INDEX webhook_messages_created ON webhook_messages (subscription_id, created_at);

-- The delivery log: one row per attempt.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    response_status INTEGER,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    next_attempt_at TIMESTAMP,
    at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
