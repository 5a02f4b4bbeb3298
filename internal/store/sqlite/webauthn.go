package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"

	"github.com/citizenid/citizenid/internal/store"
)

// WebAuthn credentials.

const webauthnColumns = `id, citizen_id, public_key, sign_count, aaguid, transports, attestation_format,
	backup_eligible, backup_state, user_verified, name, created_at, last_used_at, flagged`

func scanWebAuthn(r scanner) (*store.WebAuthnCredential, error) {
	var c store.WebAuthnCredential
	var transports, created string
	var lastUsed sql.NullString
	var count int64
	if err := r.Scan(&c.ID, &c.CitizenID, &c.PublicKey, &count, &c.AAGUID, &transports, &c.AttestationFormat,
		&c.BackupEligible, &c.BackupState, &c.UserVerified, &c.Name, &created, &lastUsed, &c.Flagged); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count) // the column's CHECK keeps it in range
	var err error
	if c.Transports, err = decList(transports); err != nil {
		return nil, err
	}
	if c.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if c.LastUsedAt, err = decNullTime(lastUsed); err != nil {
		return nil, err
	}
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.CitizenID, c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), encList(c.Transports),
			c.AttestationFormat, c.BackupEligible, c.BackupState, c.UserVerified, c.Name, encTime(c.CreatedAt),
			encNullTime(c.LastUsedAt), c.Flagged)
		return err
	})
	if err != nil {
		return wrap(err, "create webauthn credential of citizen %s", c.CitizenID)
	}
	return nil
}

// ListWebAuthnCredentials returns the citizen's credentials, oldest first.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, citizenID string) ([]store.WebAuthnCredential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials
		WHERE citizen_id = ? ORDER BY created_at, id`, citizenID)
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
	c, err := scanWebAuthn(s.db.QueryRowContext(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(err, "webauthn credential")
	}
	return c, nil
}

// UpdateWebAuthnCredential reads the credential, applies fn and writes it
// back in one write transaction; write transactions are serialised.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, id []byte, fn func(c *store.WebAuthnCredential) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := scanWebAuthn(tx.QueryRowContext(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = ?`, id))
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
		_, err = tx.ExecContext(ctx, `UPDATE webauthn_credentials SET public_key = ?, sign_count = ?, aaguid = ?,
			transports = ?, attestation_format = ?, backup_eligible = ?, backup_state = ?, user_verified = ?,
			name = ?, created_at = ?, last_used_at = ?, flagged = ? WHERE id = ?`,
			c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), encList(c.Transports), c.AttestationFormat,
			c.BackupEligible, c.BackupState, c.UserVerified, c.Name, encTime(c.CreatedAt), encNullTime(c.LastUsedAt),
			c.Flagged, id)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND citizen_id = ?`, id, citizenID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return wrap(err, "delete webauthn credential of citizen %s", citizenID)
	}
	return nil
}

var _ store.WebAuthnCredentials = (*Store)(nil)
