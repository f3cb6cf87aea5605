-- 0004: settings of a place (a Discord server's allowed channels ...) in their own table.
-- Until now an adapter kept them as a made-up user ("discord-guild:<id>"); those rows
-- move here and leave `users`, which holds people only.

CREATE TABLE settings (
    scope_key   TEXT PRIMARY KEY NOT NULL,
    values_json TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

INSERT INTO settings (scope_key, values_json, created_at, updated_at)
SELECT user_key, profile, created_at, updated_at FROM users
WHERE substr(user_key, 1, 14) = 'discord-guild:';

DELETE FROM users WHERE substr(user_key, 1, 14) = 'discord-guild:';
