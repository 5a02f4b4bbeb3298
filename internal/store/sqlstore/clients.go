package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Clients.

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes,
	subject_type, sector_identifier, min_level, max_auth_age_ns, access_token_lifetime_ns,
	refresh_token_lifetime_ns, id_token_lifetime_ns, disabled, created_at, updated_at,
	logo_url, token_endpoint_auth_method, previous_secret_hash, previous_secret_until, admin_scopes, legal_basis,
	backchannel_logout_uri, backchannel_logout_session_required, jwks, jwks_uri, require_par, require_dpop, profile,
	access_token_audience, access_token_format, id_token_signed_response_alg, subject_scheme`

func (s *Store) scanClient(r scanner) (*store.Client, error) {
	var c store.Client
	var maxAuthAge, access, refresh, idToken int64
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, s.scanList(&c.RedirectURIs),
		s.scanList(&c.PostLogoutRedirectURIs), s.scanList(&c.Scopes), &c.SubjectType, &c.SectorIdentifier, &c.MinLevel,
		&maxAuthAge, &access, &refresh, &idToken, &c.Disabled, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt),
		&c.LogoURL, &c.TokenEndpointAuthMethod, &c.PreviousSecretHash, scanTime(&c.PreviousSecretUntil),
		s.scanList(&c.AdminScopes), &c.LegalBasis, &c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired,
		&c.JWKS, &c.JWKSURI, &c.RequirePAR, &c.RequireDPoP, &c.Profile, &c.AccessTokenAudience,
		&c.AccessTokenFormat, &c.IDTokenSignedResponseAlg, &c.SubjectScheme); err != nil {
		return nil, err
	}
	c.MaxAuthAge = time.Duration(maxAuthAge)
	c.AccessTokenLifetime = time.Duration(access)
	c.RefreshTokenLifetime = time.Duration(refresh)
	c.IDTokenLifetime = time.Duration(idToken)
	return &c, nil
}

// clientArgs are the values of clientColumns but subject_scheme, which
// never changes after the client is created.
func (s *Store) clientArgs(c *store.Client) []any {
	return []any{c.ID, c.Name, c.SecretHash, c.Public, s.list(c.RedirectURIs), s.list(c.PostLogoutRedirectURIs),
		s.list(c.Scopes), c.SubjectType, c.SectorIdentifier, c.MinLevel, int64(c.MaxAuthAge),
		int64(c.AccessTokenLifetime), int64(c.RefreshTokenLifetime), int64(c.IDTokenLifetime), c.Disabled,
		s.time(c.CreatedAt), s.time(c.UpdatedAt), c.LogoURL, c.TokenEndpointAuthMethod, c.PreviousSecretHash,
		s.nullTime(c.PreviousSecretUntil), s.list(c.AdminScopes), c.LegalBasis, c.BackchannelLogoutURI,
		c.BackchannelLogoutSessionRequired, c.JWKS, c.JWKSURI, c.RequirePAR, c.RequireDPoP, c.Profile, c.AccessTokenAudience,
		c.AccessTokenFormat, c.IDTokenSignedResponseAlg}
}

func normClient(c *store.Client) {
	c.CreatedAt = norm(c.CreatedAt)
	c.UpdatedAt = norm(c.UpdatedAt)
	c.PreviousSecretUntil = norm(c.PreviousSecretUntil)
}

// CreateClient inserts c.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	if c.ID == "" {
		return errors.New("create client: id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normClient(c)
	_, err := s.exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(s.clientArgs(c), c.SubjectScheme)...)
	if err != nil {
		return s.wrap(err, "create client %s", c.ID)
	}
	return nil
}

// ClientByID returns the client with the ID.
func (s *Store) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	if !store.StorableText(id) {
		// No client has it (PostgreSQL could not even compare it).
		return nil, s.wrap(sql.ErrNoRows, "client %q", id)
	}
	c, err := row(ctx, s, s.db, s.scanClient, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id)
	if err != nil {
		return nil, s.wrap(err, "client %s", id)
	}
	return c, nil
}

// ClientsVersion is the number of clients and the latest update: a
// create, an update (UpdateClient moves updated_at forward) and a delete
// all change it.
func (s *Store) ClientsVersion(ctx context.Context) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	var latest time.Time
	if err := s.queryRow(ctx, s.db, `SELECT count(*), max(updated_at) FROM clients`).Scan(&n, scanTime(&latest)); err != nil {
		return "", s.wrap(err, "clients version")
	}
	return fmt.Sprintf("%d/%d", n, latest.UnixNano()), nil
}

// ListClients returns every client ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	out, err := rows(ctx, s, s.db, s.scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, s.wrap(err, "list clients")
	}
	return out, nil
}

// UpdateClient reads the client, applies fn and writes it back in one transaction.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(c *store.Client) error) error {
	var old time.Time
	return update(ctx, s, "update client "+id, s.scanClient, `SELECT `+clientColumns+` FROM clients WHERE id = ? FOR UPDATE`, id,
		func(c *store.Client) error { old = c.UpdatedAt; return fn(c) },
		func(tx *sql.Tx, c *store.Client) error {
			if c.ID != id {
				return errors.New("id cannot change")
			}
			s.stamp(&c.UpdatedAt, old)
			normClient(c)
			_, err := s.execTx(ctx, tx, `UPDATE clients SET name = ?, secret_hash = ?, public = ?, redirect_uris = ?,
				post_logout_redirect_uris = ?, scopes = ?, subject_type = ?, sector_identifier = ?, min_level = ?,
				max_auth_age_ns = ?, access_token_lifetime_ns = ?, refresh_token_lifetime_ns = ?,
				id_token_lifetime_ns = ?, disabled = ?, created_at = ?, updated_at = ?, logo_url = ?,
				token_endpoint_auth_method = ?, previous_secret_hash = ?, previous_secret_until = ?, admin_scopes = ?,
				legal_basis = ?, backchannel_logout_uri = ?, backchannel_logout_session_required = ?, jwks = ?,
				jwks_uri = ?, require_par = ?, require_dpop = ?, profile = ?, access_token_audience = ?,
				access_token_format = ?, id_token_signed_response_alg = ?
				WHERE id = ?`, append(s.clientArgs(c)[1:], id)...)
			return err
		})
}

// DeleteClient deletes the client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	n, err := s.exec(ctx, `DELETE FROM clients WHERE id = ?`, id)
	if err != nil {
		return s.wrap(err, "delete client %s", id)
	}
	if n == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Signing keys.

const keyColumns = `id, algorithm, state, public_key, private_key, created_at, activated_at, retired_at, verify_until`

func scanKey(r scanner) (*store.SigningKey, error) {
	var k store.SigningKey
	if err := r.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.PrivateKey, scanTime(&k.CreatedAt),
		scanTime(&k.ActivatedAt), scanTime(&k.RetiredAt), scanTime(&k.VerifyUntil)); err != nil {
		return nil, err
	}
	return &k, nil
}

const listKeys = `SELECT ` + keyColumns + ` FROM signing_keys ORDER BY created_at, id`

// ListSigningKeys returns every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := rows(ctx, s, s.db, scanKey, listKeys)
	if err != nil {
		return nil, s.wrap(err, "list signing keys")
	}
	return keys, nil
}

// UpdateSigningKeys replaces the set of keys with what fn returns, in one
// serialised transaction.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func(keys []store.SigningKey) ([]store.SigningKey, error)) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lock(ctx, tx, lockSigningKeys); err != nil {
			return err
		}
		old, err := rows(ctx, s, tx, scanKey, listKeys)
		if err != nil {
			return err
		}
		existing := make(map[string]bool, len(old))
		for _, k := range old {
			existing[k.ID] = true
		}
		next, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		seen := make(map[string]bool, len(next))
		now := s.now()
		for i := range next {
			k := &next[i]
			if k.ID == "" {
				return errors.New("key id is required")
			}
			if seen[k.ID] {
				return fmt.Errorf("key %s appears twice", k.ID)
			}
			seen[k.ID] = true
			if k.CreatedAt.IsZero() {
				k.CreatedAt = now
			}
			args := []any{k.Algorithm, k.State, nonNilBytes(k.PublicKey), nonNilBytes(k.PrivateKey), s.time(k.CreatedAt),
				s.nullTime(k.ActivatedAt), s.nullTime(k.RetiredAt), s.nullTime(k.VerifyUntil), k.ID}
			q := `INSERT INTO signing_keys (algorithm, state, public_key, private_key,
				created_at, activated_at, retired_at, verify_until, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
			if existing[k.ID] {
				q = `UPDATE signing_keys SET algorithm = ?, state = ?, public_key = ?,
					private_key = ?, created_at = ?, activated_at = ?, retired_at = ?, verify_until = ? WHERE id = ?`
			}
			if _, err := s.execTx(ctx, tx, q, args...); err != nil {
				return fmt.Errorf("write key %s: %w", k.ID, err)
			}
		}
		for id := range existing {
			if !seen[id] {
				if _, err := s.execTx(ctx, tx, `DELETE FROM signing_keys WHERE id = ?`, id); err != nil {
					return fmt.Errorf("delete key %s: %w", id, err)
				}
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return s.wrap(err, "update signing keys")
	}
	return nil
}

// lock takes the dialect's transaction-scoped lock on key, where writers
// are not serialised already.
func (s *Store) lock(ctx context.Context, tx *sql.Tx, key int64) error {
	if s.d.xactLock == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.d.xactLock, key); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	return nil
}
