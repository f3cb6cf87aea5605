-- 0002: the inbox. Raw platform updates received but not yet processed, so a platform
-- can be told "received" (Telegram's getUpdates offset) as soon as they are durable.
-- A row leaves the inbox in the same transaction that records its event as processed.

CREATE TABLE inbox (
    event_id    TEXT PRIMARY KEY NOT NULL,
    payload     TEXT NOT NULL,
    received_at REAL NOT NULL
);
