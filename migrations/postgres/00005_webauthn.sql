-- WebAuthn credentials (passkeys, security keys), PostgreSQL. Keep in step
-- with sqlite/00005_webauthn.sql.

-- +goose Up
-- A citizen may register several. The credential ID is chosen by the
-- authenticator and unique across all citizens. Public keys are public:
-- stored in clear.
CREATE TABLE webauthn_credentials (
    id                 bytea PRIMARY KEY,
    citizen_id         text NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    public_key         bytea NOT NULL,
    -- Highest signature counter accepted (an unsigned 32-bit value).
    sign_count         bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0 AND sign_count <= 4294967295),
    aaguid             bytea NOT NULL,
    transports         text[] NOT NULL DEFAULT '{}',
    attestation_format text NOT NULL DEFAULT '',
    -- BE is fixed at registration (true: a synced passkey); BS is updated at each login.
    backup_eligible    boolean NOT NULL DEFAULT false,
    backup_state       boolean NOT NULL DEFAULT false,
    -- Whether the citizen was verified at registration (not at any later login).
    user_verified      boolean NOT NULL DEFAULT false,
    name               text NOT NULL,
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz,
    -- Possibly cloned (the signature counter went backwards): never accepted again.
    flagged            boolean NOT NULL DEFAULT false
);
CREATE INDEX webauthn_credentials_citizen ON webauthn_credentials (citizen_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
