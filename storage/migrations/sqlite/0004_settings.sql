-- 0004: settings of a place (a server's allowed channels ...) in their own table.
-- Until now an adapter kept them as a made-up user keyed "<platform>-guild:<id>"; those
-- rows move here and leave `users`, which holds people only (a person's key is
-- "<platform>:<id>", which never holds "-guild:").

CREATE TABLE settings (
    scope_key   TEXT PRIMARY KEY NOT NULL,
    values_json TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

INSERT INTO settings (scope_key, values_json, created_at, updated_at)
SELECT user_key, profile, created_at, updated_at FROM users
WHERE instr(user_key, '-guild:') > 0;

DELETE FROM users WHERE instr(user_key, '-guild:') > 0;
