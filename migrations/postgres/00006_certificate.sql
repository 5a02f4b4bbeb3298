-- Explicit certificate bindings, PostgreSQL. Keep in step with sqlite/00006_certificate.sql.

-- +goose Up
-- A citizen's signature certificate whose subject does not carry the
-- citizen number. Matched by issuer + serial, or by the key's thumbprint.
CREATE TABLE certificate_bindings (
    id              text PRIMARY KEY,
    citizen_id      text NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    issuer          text NOT NULL,
    serial          text NOT NULL,
    spki_thumbprint text NOT NULL UNIQUE,
    name            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz,
    UNIQUE (issuer, serial)
);
CREATE INDEX certificate_bindings_citizen ON certificate_bindings (citizen_id);

-- +goose Down
DROP TABLE certificate_bindings;
