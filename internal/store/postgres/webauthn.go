package postgres

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/citizenid/citizenid/internal/store"
)

// WebAuthn credentials.

const webauthnColumns = `id, citizen_id, public_key, sign_count, aaguid, transports, attestation_format,
	backup_eligible, backup_state, user_verified, name, created_at, last_used_at, flagged`

func scanWebAuthn(r scanner) (*store.WebAuthnCredential, error) {
	var c store.WebAuthnCredential
	var lastUsed pgtype.Timestamptz
	var count int64
	if err := r.Scan(&c.ID, &c.CitizenID, &c.PublicKey, &count, &c.AAGUID, &c.Transports, &c.AttestationFormat,
		&c.BackupEligible, &c.BackupState, &c.UserVerified, &c.Name, &c.CreatedAt, &lastUsed, &c.Flagged); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count) // the column's CHECK keeps it in range
	c.Transports = fromList(c.Transports)
	c.CreatedAt = c.CreatedAt.UTC()
	c.LastUsedAt = fromNull(lastUsed)
	return &c, nil
}

func normWebAuthn(c *store.WebAuthnCredential) {
	c.CreatedAt = norm(c.CreatedAt)
	c.LastUsedAt = norm(c.LastUsedAt)
}

// CreateWebAuthnCredential inserts c.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *store.WebAuthnCredential) error {
	if len(c.ID) == 0 || c.CitizenID == "" || len(c.PublicKey) == 0 {
		return errors.New("create webauthn credential: id, citizen id and public key are required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	normWebAuthn(c)
	_, err := s.pool.Exec(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.CitizenID, c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), list(c.Transports),
		c.AttestationFormat, c.BackupEligible, c.BackupState, c.UserVerified, c.Name, c.CreatedAt,
		nullTime(c.LastUsedAt), c.Flagged)
	if err != nil {
		return wrap(err, "create webauthn credential of citizen %s", c.CitizenID)
	}
	return nil
}

// ListWebAuthnCredentials returns the citizen's credentials, oldest first.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, citizenID string) ([]store.WebAuthnCredential, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials
		WHERE citizen_id = $1 ORDER BY created_at, id`, citizenID)
	if err != nil {
		return nil, wrap(err, "list webauthn credentials of citizen %s", citizenID)
	}
	defer rows.Close()
	var out []store.WebAuthnCredential
	for rows.Next() {
		c, err := scanWebAuthn(rows)
		if err != nil {
			return nil, wrap(err, "list webauthn credentials of citizen %s", citizenID)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list webauthn credentials of citizen %s", citizenID)
	}
	return out, nil
}

// WebAuthnCredentialByID returns the credential with this ID.
func (s *Store) WebAuthnCredentialByID(ctx context.Context, id []byte) (*store.WebAuthnCredential, error) {
	c, err := scanWebAuthn(s.pool.QueryRow(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(err, "webauthn credential")
	}
	return c, nil
}

// UpdateWebAuthnCredential reads the credential under a row lock (SELECT
// ... FOR UPDATE), applies fn and writes it back in one transaction.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, id []byte, fn func(c *store.WebAuthnCredential) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scanWebAuthn(tx.QueryRow(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		citizenID := c.CitizenID
		if err := fn(c); err != nil {
			fnErr = err
			return err
		}
		if !bytes.Equal(c.ID, id) || c.CitizenID != citizenID {
			return errors.New("id and citizen id cannot change")
		}
		normWebAuthn(c)
		_, err = tx.Exec(ctx, `UPDATE webauthn_credentials SET public_key = $2, sign_count = $3, aaguid = $4,
			transports = $5, attestation_format = $6, backup_eligible = $7, backup_state = $8, user_verified = $9,
			name = $10, created_at = $11, last_used_at = $12, flagged = $13 WHERE id = $1`,
			id, c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), list(c.Transports), c.AttestationFormat,
			c.BackupEligible, c.BackupState, c.UserVerified, c.Name, c.CreatedAt, nullTime(c.LastUsedAt), c.Flagged)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update webauthn credential")
	}
	return nil
}

// DeleteWebAuthnCredential removes the citizen's credential with this ID.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, citizenID string, id []byte) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webauthn_credentials WHERE id = $1 AND citizen_id = $2`, id, citizenID)
	if err != nil {
		return wrap(err, "delete webauthn credential of citizen %s", citizenID)
	}
	if tag.RowsAffected() == 0 {
		return wrap(store.ErrNotFound, "delete webauthn credential of citizen %s", citizenID)
	}
	return nil
}

var _ store.WebAuthnCredentials = (*Store)(nil)
