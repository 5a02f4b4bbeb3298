package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// TOTP credentials.

const totpColumns = `citizen_id, secret, confirmed, last_step, created_at, confirmed_at, last_used_at`

func scanTOTP(r scanner) (*store.TOTPCredential, error) {
	var c store.TOTPCredential
	if err := r.Scan(&c.CitizenID, &c.Secret, &c.Confirmed, &c.LastStep, scanTime(&c.CreatedAt),
		scanTime(&c.ConfirmedAt), scanTime(&c.LastUsedAt)); err != nil {
		return nil, err
	}
	return &c, nil
}

func normTOTP(c *store.TOTPCredential) {
	c.CreatedAt = norm(c.CreatedAt)
	c.ConfirmedAt = norm(c.ConfirmedAt)
	c.LastUsedAt = norm(c.LastUsedAt)
}

// PutTOTP creates or replaces the citizen's TOTP credential.
func (s *Store) PutTOTP(ctx context.Context, c *store.TOTPCredential) error {
	if c.CitizenID == "" {
		return errors.New("put totp: citizen id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	normTOTP(c)
	_, err := s.exec(ctx, `INSERT INTO totp_credentials (`+totpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (citizen_id) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed,
		last_step = excluded.last_step, created_at = excluded.created_at, confirmed_at = excluded.confirmed_at,
		last_used_at = excluded.last_used_at`,
		c.CitizenID, nonNilBytes(c.Secret), c.Confirmed, c.LastStep, s.time(c.CreatedAt), s.nullTime(c.ConfirmedAt),
		s.nullTime(c.LastUsedAt))
	if err != nil {
		return s.wrap(err, "put totp of citizen %s", c.CitizenID)
	}
	return nil
}

// TOTP returns the citizen's TOTP credential.
func (s *Store) TOTP(ctx context.Context, citizenID string) (*store.TOTPCredential, error) {
	c, err := row(ctx, s, s.db, scanTOTP, `SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = ?`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "totp of citizen %s", citizenID)
	}
	return c, nil
}

// UpdateTOTP reads the credential (under a row lock, or with writers
// serialised), applies fn and writes it back in one transaction.
func (s *Store) UpdateTOTP(ctx context.Context, citizenID string, fn func(c *store.TOTPCredential) error) error {
	return update(ctx, s, "update totp of citizen "+citizenID, scanTOTP,
		`SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = ? FOR UPDATE`, citizenID, fn,
		func(tx *sql.Tx, c *store.TOTPCredential) error {
			if c.CitizenID != citizenID {
				return errors.New("citizen id cannot change")
			}
			normTOTP(c)
			_, err := s.execTx(ctx, tx, `UPDATE totp_credentials SET secret = ?, confirmed = ?, last_step = ?,
				created_at = ?, confirmed_at = ?, last_used_at = ? WHERE citizen_id = ?`,
				nonNilBytes(c.Secret), c.Confirmed, c.LastStep, s.time(c.CreatedAt), s.nullTime(c.ConfirmedAt),
				s.nullTime(c.LastUsedAt), citizenID)
			return err
		})
}

// lockCitizen takes a row lock on the citizen that serialises changes to
// the citizen's set of recovery codes (it does not block the key-share
// locks of foreign-key checks). sql.ErrNoRows when the citizen is unknown.
func (s *Store) lockCitizen(ctx context.Context, tx *sql.Tx, citizenID string) error {
	var one int
	return s.queryRow(ctx, tx, `SELECT 1 FROM citizens WHERE id = ? FOR NO KEY UPDATE`, citizenID).Scan(&one)
}

// DeleteTOTP removes the credential and the citizen's recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, citizenID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockCitizen(ctx, tx, citizenID); err != nil {
			return err
		}
		n, err := s.execTx(ctx, tx, `DELETE FROM totp_credentials WHERE citizen_id = ?`, citizenID)
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		_, err = s.execTx(ctx, tx, `DELETE FROM recovery_codes WHERE citizen_id = ?`, citizenID)
		return err
	})
	if err != nil {
		return s.wrap(err, "delete totp of citizen %s", citizenID)
	}
	return nil
}

// Recovery codes.

// ReplaceRecoveryCodes deletes the citizen's codes and stores these hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, citizenID string, hashes []string) error {
	now := s.time(s.now())
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockCitizen(ctx, tx, citizenID); err != nil {
			return err
		}
		if _, err := s.execTx(ctx, tx, `DELETE FROM recovery_codes WHERE citizen_id = ?`, citizenID); err != nil {
			return err
		}
		if len(hashes) == 0 {
			return nil
		}
		args := make([]any, 0, 3*len(hashes))
		for _, h := range hashes {
			args = append(args, citizenID, h, now)
		}
		_, err := s.execTx(ctx, tx, `INSERT INTO recovery_codes (citizen_id, hash, created_at) VALUES `+
			strings.Repeat("(?, ?, ?), ", len(hashes)-1)+`(?, ?, ?)`, args...)
		return err
	})
	if err != nil {
		return s.wrap(err, "replace recovery codes of citizen %s", citizenID)
	}
	return nil
}

// UseRecoveryCode marks the unused code with this hash as used. Of
// concurrent uses, the first to update the row holds its lock until commit;
// the others then re-check used_at against the committed row and update
// nothing.
func (s *Store) UseRecoveryCode(ctx context.Context, citizenID, hash string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE recovery_codes SET used_at = ?
		WHERE citizen_id = ? AND hash = ? AND used_at IS NULL`, s.time(now), citizenID, hash)
	if err != nil {
		return s.wrap(err, "use recovery code of citizen %s", citizenID)
	}
	if n == 0 {
		return fmt.Errorf("use recovery code of citizen %s: %w", citizenID, store.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft counts the citizen's unused codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM recovery_codes WHERE citizen_id = ? AND used_at IS NULL`,
		citizenID).Scan(&n)
	if err != nil {
		return 0, s.wrap(err, "count recovery codes of citizen %s", citizenID)
	}
	return n, nil
}
