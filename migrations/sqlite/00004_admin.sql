-- Administration, SQLite. Keep in step with postgres/00004_admin.sql.

-- +goose Up
-- Administrative roles granted to citizens' accounts (owner, rp-manager,
-- helpdesk, auditor; the admin package says what each allows).
CREATE TABLE admin_roles (
    citizen_id TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    granted_by TEXT NOT NULL DEFAULT '',
    granted_at TEXT NOT NULL,
    PRIMARY KEY (citizen_id, role)
) STRICT;
CREATE INDEX admin_roles_role ON admin_roles (role);

-- Client fields the console edits, secret rotation with overlap (the
-- previous secret keeps working until previous_secret_until), and the admin
-- API scopes an owner granted (non-empty: the client_credentials grant).
ALTER TABLE clients ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_until TEXT;
ALTER TABLE clients ADD COLUMN admin_scopes TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE clients DROP COLUMN admin_scopes;
ALTER TABLE clients DROP COLUMN previous_secret_until;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_method;
ALTER TABLE clients DROP COLUMN logo_url;
DROP TABLE admin_roles;
