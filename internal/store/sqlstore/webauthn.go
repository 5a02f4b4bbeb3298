package sqlstore

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

func (s *Store) scanWebAuthn(r scanner) (*store.WebAuthnCredential, error) {
	var c store.WebAuthnCredential
	var count int64
	if err := r.Scan(&c.ID, &c.CitizenID, &c.PublicKey, &count, &c.AAGUID, s.scanList(&c.Transports),
		&c.AttestationFormat, &c.BackupEligible, &c.BackupState, &c.UserVerified, &c.Name, scanTime(&c.CreatedAt),
		scanTime(&c.LastUsedAt), &c.Flagged); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count) // the column's CHECK keeps it in range
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
	_, err := s.exec(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.CitizenID, c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), s.list(c.Transports),
		c.AttestationFormat, c.BackupEligible, c.BackupState, c.UserVerified, c.Name, s.time(c.CreatedAt),
		s.nullTime(c.LastUsedAt), c.Flagged)
	if err != nil {
		return s.wrap(err, "create webauthn credential of citizen %s", c.CitizenID)
	}
	return nil
}

// ListWebAuthnCredentials returns the citizen's credentials, oldest first.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, citizenID string) ([]store.WebAuthnCredential, error) {
	out, err := rows(ctx, s, s.db, s.scanWebAuthn, `SELECT `+webauthnColumns+` FROM webauthn_credentials
		WHERE citizen_id = ? ORDER BY created_at, id`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "list webauthn credentials of citizen %s", citizenID)
	}
	return out, nil
}

// WebAuthnCredentialByID returns the credential with this ID.
func (s *Store) WebAuthnCredentialByID(ctx context.Context, id []byte) (*store.WebAuthnCredential, error) {
	c, err := row(ctx, s, s.db, s.scanWebAuthn, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = ?`, id)
	if err != nil {
		return nil, s.wrap(err, "webauthn credential")
	}
	return c, nil
}

// UpdateWebAuthnCredential reads the credential (under a row lock, or with
// writers serialised), applies fn and writes it back in one transaction.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, id []byte, fn func(c *store.WebAuthnCredential) error) error {
	var citizenID string
	return update(ctx, s, "update webauthn credential", s.scanWebAuthn,
		`SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE id = ? FOR UPDATE`, id,
		func(c *store.WebAuthnCredential) error { citizenID = c.CitizenID; return fn(c) },
		func(tx *sql.Tx, c *store.WebAuthnCredential) error {
			if !bytes.Equal(c.ID, id) || c.CitizenID != citizenID {
				return errors.New("id and citizen id cannot change")
			}
			normWebAuthn(c)
			_, err := s.execTx(ctx, tx, `UPDATE webauthn_credentials SET public_key = ?, sign_count = ?, aaguid = ?,
				transports = ?, attestation_format = ?, backup_eligible = ?, backup_state = ?, user_verified = ?,
				name = ?, created_at = ?, last_used_at = ?, flagged = ? WHERE id = ?`,
				c.PublicKey, int64(c.SignCount), nonNilBytes(c.AAGUID), s.list(c.Transports), c.AttestationFormat,
				c.BackupEligible, c.BackupState, c.UserVerified, c.Name, s.time(c.CreatedAt), s.nullTime(c.LastUsedAt),
				c.Flagged, id)
			return err
		})
}

// DeleteWebAuthnCredential removes the citizen's credential with this ID.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, citizenID string, id []byte) error {
	err := s.execOne(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND citizen_id = ?`, id, citizenID)
	if err != nil {
		return s.wrap(err, "delete webauthn credential of citizen %s", citizenID)
	}
	return nil
}

var _ store.WebAuthnCredentials = (*Store)(nil)
