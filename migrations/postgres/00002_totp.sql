-- TOTP second factor, PostgreSQL. Keep in step with sqlite/00002_totp.sql.

-- +goose Up
-- false: once the citizen has a second factor, every fresh login asks for it.
ALTER TABLE citizens ADD COLUMN skip_second_factor boolean NOT NULL DEFAULT false;

-- At most one TOTP authenticator per citizen. The secret is sealed with the
-- master key (keys.Sealer); it is never stored in clear.
CREATE TABLE totp_credentials (
    citizen_id   text PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    secret       bytea NOT NULL,
    confirmed    boolean NOT NULL DEFAULT false,
    last_step    bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_used_at timestamptz
);

-- Single-use recovery codes, stored as keyed hashes only.
CREATE TABLE recovery_codes (
    citizen_id text NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    hash       text NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (citizen_id, hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE totp_credentials;
ALTER TABLE citizens DROP COLUMN skip_second_factor;
