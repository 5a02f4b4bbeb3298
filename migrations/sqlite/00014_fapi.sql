-- Portal-grade OAuth (sqlite). Keep in step with the other dialect's 00014_fapi.sql.

-- +goose Up
-- A client's public keys (private_key_jwt, signed request objects): an
-- inline JWKS, or an https URL the server fetches and caches.
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
-- Pushed authorization requests and DPoP-bound tokens required; the
-- profile (fapi2) that implies both and more.
ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN profile TEXT NOT NULL DEFAULT '';
-- Whom the client's access tokens are for (RFC 9068 aud); empty: the
-- client itself.
ALTER TABLE clients ADD COLUMN access_token_audience TEXT NOT NULL DEFAULT '';
-- The thumbprint (RFC 7638) of the DPoP key a refresh token is bound to,
-- and the claims its authorization request asked for by name.
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN claims;
ALTER TABLE refresh_tokens DROP COLUMN dpop_jkt;
ALTER TABLE clients DROP COLUMN access_token_audience;
ALTER TABLE clients DROP COLUMN profile;
ALTER TABLE clients DROP COLUMN require_dpop;
ALTER TABLE clients DROP COLUMN require_par;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
