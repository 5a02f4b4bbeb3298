-- Refresh tokens keyed by their hash (postgres). Keep in step with the other dialect's 00016_refresh_token_key.sql.

-- +goose Up
-- Every lookup of a refresh token is by its hash; none is by id. The hash's
-- unique index becomes the primary key and the index on id goes: one index
-- entry fewer written per rotation. id stays a column: it names the token
-- in logs.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY USING INDEX refresh_tokens_token_hash;

-- +goose Down
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
