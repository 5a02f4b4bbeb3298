-- Explicit certificate bindings, SQLite. Keep in step with postgres/00006_certificate.sql.

-- +goose Up
-- A citizen's signature certificate whose subject does not carry the
-- citizen number. Matched by issuer + serial, or by the key's thumbprint.
CREATE TABLE certificate_bindings (
    id              TEXT PRIMARY KEY,
    citizen_id      TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    issuer          TEXT NOT NULL,
    serial          TEXT NOT NULL,
    spki_thumbprint TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    UNIQUE (issuer, serial)
) STRICT;
CREATE INDEX certificate_bindings_citizen ON certificate_bindings (citizen_id);

-- +goose Down
DROP TABLE certificate_bindings;
