-- Consent and legal basis (sqlite). Keep in step with the other dialect's 00010_consent.sql.

-- +goose Up
-- A portal may be registered with a legal basis: its citizens are then
-- notified once per attribute set instead of asked.
ALTER TABLE clients ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE saml_service_providers ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';

-- Every approval (or legal-basis notice) a citizen gave a portal, kept
-- for the citizen's history and export: a withdrawal sets withdrawn_at,
-- a new approval is a new row.
CREATE TABLE consents (
    id           TEXT PRIMARY KEY,
    citizen_id   TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    portal       TEXT NOT NULL,
    portal_name  TEXT NOT NULL DEFAULT '',
    attributes   TEXT NOT NULL DEFAULT '[]',
    basis        TEXT NOT NULL,
    legal_basis  TEXT NOT NULL DEFAULT '',
    text_version INTEGER NOT NULL,
    granted_at   TEXT NOT NULL,
    withdrawn_at TEXT
) STRICT;
CREATE INDEX consents_citizen_portal ON consents (citizen_id, portal, granted_at);

-- +goose Down
DROP TABLE consents;
ALTER TABLE saml_service_providers DROP COLUMN legal_basis;
ALTER TABLE clients DROP COLUMN legal_basis;
