-- TOTP second factor, SQLite. Keep in step with postgres/00002_totp.sql.

-- +goose Up
-- 0: once the citizen has a second factor, every fresh login asks for it.
ALTER TABLE citizens ADD COLUMN skip_second_factor INTEGER NOT NULL DEFAULT 0;

-- At most one TOTP authenticator per citizen. The secret is sealed with the
-- master key (keys.Sealer); it is never stored in clear.
CREATE TABLE totp_credentials (
    citizen_id   TEXT PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    secret       BLOB NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    confirmed_at TEXT,
    last_used_at TEXT
) STRICT;

-- Single-use recovery codes, stored as keyed hashes only.
CREATE TABLE recovery_codes (
    citizen_id TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (citizen_id, hash)
) STRICT;

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE totp_credentials;
ALTER TABLE citizens DROP COLUMN skip_second_factor;
