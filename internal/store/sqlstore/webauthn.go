package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// recordWebAuthnUse is RecordWebAuthnUse's compare-and-set. In an UPDATE
// every expression sees the row as it was, so each CASE asks the same
// question: did the counter regress? Given count <= sign_count, "not both
// zero" is "sign_count <> 0".
const recordWebAuthnUse = `UPDATE webauthn_credentials SET
		flagged = CASE WHEN ? <= sign_count AND sign_count <> 0 THEN TRUE ELSE flagged END,
		sign_count = CASE WHEN ? <= sign_count AND sign_count <> 0 THEN sign_count ELSE ? END,
		backup_state = CASE WHEN ? <= sign_count AND sign_count <> 0 THEN backup_state ELSE ? END,
		last_used_at = CASE WHEN ? <= sign_count AND sign_count <> 0 THEN last_used_at ELSE ? END
	WHERE id = ? AND NOT flagged
	RETURNING flagged, sign_count`

// RecordWebAuthnUse records a login with the credential in one statement:
// one round trip where the database serialises writers itself, instead
// of a transaction that reads the row under a lock and writes it back.
func (s *Store) RecordWebAuthnUse(ctx context.Context, id []byte, count uint32, backupState bool, at time.Time) (store.WebAuthnUse, uint32, error) {
	n := int64(count)
	args := []any{n, n, n, n, backupState, n, s.time(norm(at)), id}
	var flagged bool
	var stored int64
	scan := func(q querier) error {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		return s.queryRow(ctx, q, recordWebAuthnUse, args...).Scan(&flagged, &stored)
	}
	var err error
	if s.d.writeMu == nil {
		err = scan(s.db)
	} else {
		err = s.write(ctx, func(tx *sql.Tx) error { return scan(tx) })
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Absent, or flagged before: nothing was written.
		c, err := s.WebAuthnCredentialByID(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		if !c.Flagged {
			return 0, 0, fmt.Errorf("record webauthn use: credential neither updated nor flagged")
		}
		return store.WebAuthnFlagged, c.SignCount, nil
	case err != nil:
		return 0, 0, s.wrap(err, "record webauthn use")
	case flagged:
		return store.WebAuthnRegressed, uint32(stored), nil
	}
	// Advanced: sign_count is count now; before, it was below (or 0 too).
	return store.WebAuthnUsed, 0, nil
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
