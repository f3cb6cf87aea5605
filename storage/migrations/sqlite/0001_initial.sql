-- 0001: initial schema. JSON columns hold compact UTF-8 JSON text; times are epoch seconds.

CREATE TABLE users (
    user_key    TEXT PRIMARY KEY NOT NULL,
    profile     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE conversations (
    conversation_key TEXT PRIMARY KEY NOT NULL,
    user_key         TEXT NOT NULL,
    state            TEXT NOT NULL,
    deadline         REAL,
    address          TEXT NOT NULL,
    updated_at       REAL NOT NULL
);

CREATE INDEX conversations_user_key ON conversations (user_key);
-- Only conversations with a pending timeout are indexed: idle ones cost nothing here.
CREATE INDEX conversations_deadline ON conversations (deadline) WHERE deadline IS NOT NULL;

CREATE TABLE turns (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_key TEXT NOT NULL,
    user_key         TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    at               REAL NOT NULL,
    kind             TEXT NOT NULL,
    text             TEXT,
    analysis         TEXT,
    meta             TEXT NOT NULL
);

CREATE INDEX turns_user_key ON turns (user_key);
CREATE UNIQUE INDEX turns_conversation_seq ON turns (conversation_key, seq);

CREATE TABLE processed_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    at       REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_key TEXT NOT NULL,
    platform         TEXT NOT NULL,
    address          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       REAL NOT NULL,
    sent_at          REAL
);

CREATE INDEX outbox_conversation_key ON outbox (conversation_key);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
