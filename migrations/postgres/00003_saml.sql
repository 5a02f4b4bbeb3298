-- SAML service providers, PostgreSQL. Keep in step with sqlite/00003_saml.sql.

-- +goose Up
-- A service provider is registered from its metadata (kept as given); the
-- ACS URLs are those of the metadata that assertions may be posted to.
CREATE TABLE saml_service_providers (
    entity_id               text COLLATE "C" PRIMARY KEY,
    name                    text NOT NULL DEFAULT '',
    metadata_xml            bytea NOT NULL,
    acs_urls                text[] NOT NULL DEFAULT '{}',
    nameid_format           text NOT NULL DEFAULT '',
    attributes              text[] NOT NULL DEFAULT '{}',
    allow_citizen_number    boolean NOT NULL DEFAULT false,
    min_level               integer NOT NULL DEFAULT 1,
    encrypt_assertions      boolean NOT NULL DEFAULT false,
    require_signed_requests boolean NOT NULL DEFAULT false,
    allow_idp_initiated     boolean NOT NULL DEFAULT false,
    disabled                boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

-- +goose Down
DROP TABLE saml_service_providers;
