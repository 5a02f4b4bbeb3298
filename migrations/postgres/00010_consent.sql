-- Consent and legal basis (postgres). Keep in step with the other dialect's 00010_consent.sql.

-- +goose Up
-- A portal may be registered with a legal basis: its citizens are then
-- notified once per attribute set instead of asked.
ALTER TABLE clients ADD COLUMN legal_basis text NOT NULL DEFAULT '';
ALTER TABLE saml_service_providers ADD COLUMN legal_basis text NOT NULL DEFAULT '';

-- Every approval (or legal-basis notice) a citizen gave a portal, kept
-- for the citizen's history and export: a withdrawal sets withdrawn_at,
-- a new approval is a new row.
CREATE TABLE consents (
    id           text PRIMARY KEY,
    citizen_id   text NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    portal       text COLLATE "C" NOT NULL,
    portal_name  text NOT NULL DEFAULT '',
    attributes   text[] NOT NULL DEFAULT '{}',
    basis        text NOT NULL,
    legal_basis  text NOT NULL DEFAULT '',
    text_version integer NOT NULL,
    granted_at   timestamptz NOT NULL,
    withdrawn_at timestamptz
);
CREATE INDEX consents_citizen_portal ON consents (citizen_id, portal, granted_at);

-- +goose Down
DROP TABLE consents;
ALTER TABLE saml_service_providers DROP COLUMN legal_basis;
ALTER TABLE clients DROP COLUMN legal_basis;
