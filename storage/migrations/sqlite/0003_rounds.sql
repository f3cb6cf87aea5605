-- Mentor practice rounds: one row per round, its state machine as JSON.
CREATE TABLE rounds (
    round_id   TEXT PRIMARY KEY,
    group_key  TEXT NOT NULL,
    state      TEXT NOT NULL,
    deadline   REAL,
    is_open    INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX rounds_open_in_group ON rounds (group_key, updated_at) WHERE is_open = 1;
CREATE INDEX rounds_by_deadline ON rounds (deadline) WHERE deadline IS NOT NULL;
