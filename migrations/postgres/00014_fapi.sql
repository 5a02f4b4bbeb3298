-- Portal-grade OAuth (postgres). Keep in step with the other dialect's 00014_fapi.sql.

-- +goose Up
-- A client's public keys (private_key_jwt, signed request objects): an
-- inline JWKS, or an https URL the server fetches and caches.
ALTER TABLE clients ADD COLUMN jwks text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri text NOT NULL DEFAULT '';
-- Pushed authorization requests and DPoP-bound tokens required; the
-- profile (fapi2) that implies both and more.
ALTER TABLE clients ADD COLUMN require_par boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN require_dpop boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN profile text NOT NULL DEFAULT '';
-- Whom the client's access tokens are for (RFC 9068 aud); empty: the
-- client itself.
ALTER TABLE clients ADD COLUMN access_token_audience text NOT NULL DEFAULT '';
-- The thumbprint (RFC 7638) of the DPoP key a refresh token is bound to,
-- and the claims its authorization request asked for by name.
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN claims text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN claims;
ALTER TABLE refresh_tokens DROP COLUMN dpop_jkt;
ALTER TABLE clients DROP COLUMN access_token_audience;
ALTER TABLE clients DROP COLUMN profile;
ALTER TABLE clients DROP COLUMN require_dpop;
ALTER TABLE clients DROP COLUMN require_par;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
