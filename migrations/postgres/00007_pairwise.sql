-- Pairwise identifiers kept apart by protocol and by sector (postgres). Keep in step with the other dialect's 00007_pairwise.sql.

-- +goose Up
-- Relying parties registered before this migration keep the derivation
-- their subjects and NameIDs were made with (1); new ones get the current
-- one (0), which puts the protocol and the kind of sector in the input.
ALTER TABLE clients ADD COLUMN subject_scheme integer NOT NULL DEFAULT 0;
UPDATE clients SET subject_scheme = 1;
ALTER TABLE saml_service_providers ADD COLUMN subject_scheme integer NOT NULL DEFAULT 0;
UPDATE saml_service_providers SET subject_scheme = 1;

-- +goose Down
ALTER TABLE saml_service_providers DROP COLUMN subject_scheme;
ALTER TABLE clients DROP COLUMN subject_scheme;
