-- WebAuthn credentials (passkeys, security keys), SQLite. Keep in step with
-- postgres/00005_webauthn.sql.

-- +goose Up
-- A citizen may register several. The credential ID is chosen by the
-- authenticator and unique across all citizens. Public keys are public:
-- stored in clear.
CREATE TABLE webauthn_credentials (
    id                 BLOB PRIMARY KEY,
    citizen_id         TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    public_key         BLOB NOT NULL,
    -- Highest signature counter accepted (an unsigned 32-bit value).
    sign_count         INTEGER NOT NULL DEFAULT 0 CHECK (sign_count >= 0 AND sign_count <= 4294967295),
    aaguid             BLOB NOT NULL,
    transports         TEXT NOT NULL DEFAULT '[]',
    attestation_format TEXT NOT NULL DEFAULT '',
    -- BE is fixed at registration (1: a synced passkey); BS is updated at each login.
    backup_eligible    INTEGER NOT NULL DEFAULT 0,
    backup_state       INTEGER NOT NULL DEFAULT 0,
    -- Whether the citizen was verified at registration (not at any later login).
    user_verified      INTEGER NOT NULL DEFAULT 0,
    name               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    last_used_at       TEXT,
    -- Possibly cloned (the signature counter went backwards): never accepted again.
    flagged            INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX webauthn_credentials_citizen ON webauthn_credentials (citizen_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
