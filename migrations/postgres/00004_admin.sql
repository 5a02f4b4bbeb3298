-- Administration, PostgreSQL. Keep in step with sqlite/00004_admin.sql.

-- +goose Up
-- Administrative roles granted to citizens' accounts (owner, rp-manager,
-- helpdesk, auditor; the admin package says what each allows).
CREATE TABLE admin_roles (
    citizen_id text COLLATE "C" NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    role       text COLLATE "C" NOT NULL,
    granted_by text NOT NULL DEFAULT '',
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, role)
);
CREATE INDEX admin_roles_role ON admin_roles (role);

-- Client fields the console edits, secret rotation with overlap (the
-- previous secret keeps working until previous_secret_until), and the admin
-- API scopes an owner granted (non-empty: the client_credentials grant).
ALTER TABLE clients ADD COLUMN logo_url text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_hash text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_until timestamptz;
ALTER TABLE clients ADD COLUMN admin_scopes text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE clients DROP COLUMN admin_scopes;
ALTER TABLE clients DROP COLUMN previous_secret_until;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_method;
ALTER TABLE clients DROP COLUMN logo_url;
DROP TABLE admin_roles;
