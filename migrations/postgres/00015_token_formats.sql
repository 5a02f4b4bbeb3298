-- Token formats per client (postgres). Keep in step with the other dialect's 00015_token_formats.sql.

-- +goose Up
-- The format of the client's access tokens: jwt (RFC 9068, signed) or
-- opaque (a sealed reference checked by introspection and userinfo);
-- empty: jwt.
ALTER TABLE clients ADD COLUMN access_token_format text NOT NULL DEFAULT '';
-- The algorithm of the client's ID tokens (RS256, PS256, ES256, EdDSA);
-- empty: the server's default (keys.algorithm).
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN id_token_signed_response_alg;
ALTER TABLE clients DROP COLUMN access_token_format;
