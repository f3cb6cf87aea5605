-- 0001: the schema SQLite reached in its migrations 1-3, in PostgreSQL's terms.
-- JSON columns hold the compact JSON text the codec writes (kept byte for byte, like
-- SQLite); times are epoch seconds. Keys compare bytewise (COLLATE "C") so ordering
-- and prefix scans match SQLite whatever the database's locale.
-- Ids come from identity columns; a turn's number in its conversation is its rank by id.

CREATE TABLE users (
    user_key    TEXT COLLATE "C" PRIMARY KEY,
    profile     TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE conversations (
    conversation_key TEXT COLLATE "C" PRIMARY KEY,
    user_key         TEXT COLLATE "C" NOT NULL,
    state            TEXT NOT NULL,
    deadline         DOUBLE PRECISION,
    address          TEXT NOT NULL,
    updated_at       DOUBLE PRECISION NOT NULL
);

CREATE INDEX conversations_user_key ON conversations (user_key);
CREATE INDEX conversations_deadline ON conversations (deadline) WHERE deadline IS NOT NULL;

CREATE TABLE turns (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_key TEXT COLLATE "C" NOT NULL,
    user_key         TEXT COLLATE "C" NOT NULL,
    at               DOUBLE PRECISION NOT NULL,
    kind             TEXT NOT NULL,
    -- what the user typed, as UTF-8 bytes: a TEXT column cannot hold a NUL character
    body             BYTEA,
    analysis         TEXT,
    meta             TEXT NOT NULL
);

CREATE INDEX turns_user_key ON turns (user_key);
CREATE INDEX turns_conversation ON turns (conversation_key, id);

CREATE TABLE processed_events (
    event_id TEXT COLLATE "C" PRIMARY KEY,
    at       DOUBLE PRECISION NOT NULL
);

CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_key TEXT COLLATE "C" NOT NULL,
    platform         TEXT NOT NULL,
    address          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       DOUBLE PRECISION NOT NULL,
    sent_at          DOUBLE PRECISION
);

CREATE INDEX outbox_conversation_key ON outbox (conversation_key);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE inbox (
    event_id    TEXT COLLATE "C" PRIMARY KEY,
    arrival     BIGINT GENERATED ALWAYS AS IDENTITY,
    payload     TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE rounds (
    round_id   TEXT COLLATE "C" PRIMARY KEY,
    group_key  TEXT COLLATE "C" NOT NULL,
    state      TEXT NOT NULL,
    deadline   DOUBLE PRECISION,
    is_open    BOOLEAN NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX rounds_open_in_group ON rounds (group_key, updated_at) WHERE is_open;
CREATE INDEX rounds_by_deadline ON rounds (deadline) WHERE deadline IS NOT NULL;
