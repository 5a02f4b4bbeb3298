-- SAML service providers, SQLite. Keep in step with postgres/00003_saml.sql.

-- +goose Up
-- A service provider is registered from its metadata (kept as given); the
-- ACS URLs are those of the metadata that assertions may be posted to.
CREATE TABLE saml_service_providers (
    entity_id               TEXT PRIMARY KEY,
    name                    TEXT NOT NULL DEFAULT '',
    metadata_xml            BLOB NOT NULL,
    acs_urls                TEXT NOT NULL DEFAULT '[]',
    nameid_format           TEXT NOT NULL DEFAULT '',
    attributes              TEXT NOT NULL DEFAULT '[]',
    allow_citizen_number    INTEGER NOT NULL DEFAULT 0,
    min_level               INTEGER NOT NULL DEFAULT 1,
    encrypt_assertions      INTEGER NOT NULL DEFAULT 0,
    require_signed_requests INTEGER NOT NULL DEFAULT 0,
    allow_idp_initiated     INTEGER NOT NULL DEFAULT 0,
    disabled                INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE saml_service_providers;
