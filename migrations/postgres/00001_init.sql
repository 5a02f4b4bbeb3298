-- CitizenID schema, PostgreSQL. Keep in step with sqlite/00001_init.sql.
--
-- Times are timestamptz (microsecond precision). Text keys that the store
-- orders by use COLLATE "C" so ordering is bytewise, as in SQLite.

-- +goose Up
CREATE TABLE citizens (
    id             text PRIMARY KEY,
    number         text COLLATE "C" NOT NULL UNIQUE,
    name           text NOT NULL DEFAULT '',
    birthdate      text NOT NULL DEFAULT '',
    email          text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '',
    identity_level integer NOT NULL DEFAULT 1,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE password_credentials (
    citizen_id text PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    hash       text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE clients (
    id                        text COLLATE "C" PRIMARY KEY,
    name                      text NOT NULL DEFAULT '',
    secret_hash               text NOT NULL DEFAULT '',
    public                    boolean NOT NULL DEFAULT false,
    redirect_uris             text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    scopes                    text[] NOT NULL DEFAULT '{}',
    subject_type              text NOT NULL DEFAULT '',
    sector_identifier         text NOT NULL DEFAULT '',
    min_level                 integer NOT NULL DEFAULT 1,
    max_auth_age_ns           bigint NOT NULL DEFAULT 0,
    access_token_lifetime_ns  bigint NOT NULL DEFAULT 0,
    refresh_token_lifetime_ns bigint NOT NULL DEFAULT 0,
    id_token_lifetime_ns      bigint NOT NULL DEFAULT 0,
    disabled                  boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL
);

CREATE TABLE signing_keys (
    id           text COLLATE "C" PRIMARY KEY,
    algorithm    text NOT NULL,
    state        text NOT NULL,
    public_key   bytea NOT NULL,
    private_key  bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    activated_at timestamptz,
    retired_at   timestamptz,
    verify_until timestamptz
);

CREATE TABLE refresh_tokens (
    id         text PRIMARY KEY,
    token_hash text NOT NULL,
    family_id  text NOT NULL,
    citizen_id text NOT NULL,
    client_id  text NOT NULL,
    subject    text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    scopes     text[] NOT NULL DEFAULT '{}',
    audience   text[] NOT NULL DEFAULT '{}',
    auth_time  timestamptz,
    acr        text NOT NULL DEFAULT '',
    amr        text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_citizen_id ON refresh_tokens (citizen_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE audit_events (
    seq       bigint PRIMARY KEY CHECK (seq > 0),
    time      timestamptz NOT NULL,
    actor     text NOT NULL DEFAULT '',
    action    text NOT NULL DEFAULT '',
    target    text NOT NULL DEFAULT '',
    outcome   text NOT NULL DEFAULT '',
    client_ip text NOT NULL DEFAULT '',
    details   jsonb NOT NULL DEFAULT '{}',
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_target ON audit_events (target, seq);
CREATE INDEX audit_events_time ON audit_events (time);

-- The audit log is append-only: rows are never changed or removed by the
-- application. Retention, if ever needed, is an operator's explicit act.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE refresh_tokens;
DROP TABLE signing_keys;
DROP TABLE clients;
DROP TABLE password_credentials;
DROP TABLE citizens;
