package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizenid/citizenid/internal/store"
)

// Citizens.

const citizenColumns = `id, number, name, birthdate, email, phone, identity_level, disabled, skip_second_factor,
	created_at, updated_at, email_verified, phone_verified, self_registered`

func scanCitizen(r scanner) (*store.Citizen, error) {
	var c store.Citizen
	if err := r.Scan(&c.ID, &c.Number, &c.Name, &c.Birthdate, &c.Email, &c.Phone,
		&c.IdentityLevel, &c.Disabled, &c.SkipSecondFactor, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt),
		&c.EmailVerified, &c.PhoneVerified, &c.SelfRegistered); err != nil {
		return nil, err
	}
	return &c, nil
}

func normCitizen(c *store.Citizen) {
	c.CreatedAt = norm(c.CreatedAt)
	c.UpdatedAt = norm(c.UpdatedAt)
}

// CreateCitizen inserts c.
func (s *Store) CreateCitizen(ctx context.Context, c *store.Citizen, passwordHash string) error {
	if c.ID == "" {
		return errors.New("create citizen: id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normCitizen(c)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.execTx(ctx, tx, `INSERT INTO citizens (`+citizenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
			s.time(c.CreatedAt), s.time(c.UpdatedAt), c.EmailVerified, c.PhoneVerified, c.SelfRegistered)
		if err != nil || passwordHash == "" {
			return err
		}
		_, err = s.execTx(ctx, tx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES (?, ?, ?)`,
			c.ID, passwordHash, s.time(c.CreatedAt))
		return err
	})
	if err != nil {
		return s.wrap(err, "create citizen %s", c.ID)
	}
	return nil
}

// CitizenByNumber returns the citizen with the number.
func (s *Store) CitizenByNumber(ctx context.Context, number string) (*store.Citizen, error) {
	c, err := row(ctx, s, s.db, scanCitizen, `SELECT `+citizenColumns+` FROM citizens WHERE number = ?`, number)
	if err != nil {
		return nil, s.wrap(err, "citizen by number")
	}
	return c, nil
}

// CitizenByID returns the citizen with the ID.
func (s *Store) CitizenByID(ctx context.Context, id string) (*store.Citizen, error) {
	c, err := row(ctx, s, s.db, scanCitizen, `SELECT `+citizenColumns+` FROM citizens WHERE id = ?`, id)
	if err != nil {
		return nil, s.wrap(err, "citizen %s", id)
	}
	return c, nil
}

// ListCitizens returns up to limit citizens ordered by number after afterNumber.
func (s *Store) ListCitizens(ctx context.Context, afterNumber string, limit int) ([]store.Citizen, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := rows(ctx, s, s.db, scanCitizen, `SELECT `+citizenColumns+` FROM citizens
		WHERE number > ? ORDER BY number LIMIT ?`, afterNumber, limit)
	if err != nil {
		return nil, s.wrap(err, "list citizens")
	}
	return out, nil
}

// UpdateCitizen reads the citizen, applies fn and writes it back in one transaction.
func (s *Store) UpdateCitizen(ctx context.Context, id string, fn func(c *store.Citizen) error) error {
	var old store.Citizen
	return update(ctx, s, "update citizen "+id, scanCitizen, `SELECT `+citizenColumns+` FROM citizens WHERE id = ? FOR UPDATE`, id,
		func(c *store.Citizen) error { old = *c; return fn(c) },
		func(tx *sql.Tx, c *store.Citizen) error {
			if c.ID != id {
				return errors.New("id cannot change")
			}
			s.stamp(&c.UpdatedAt, old.UpdatedAt)
			normCitizen(c)
			_, err := s.execTx(ctx, tx, `UPDATE citizens SET number = ?, name = ?, birthdate = ?, email = ?, phone = ?,
				identity_level = ?, disabled = ?, skip_second_factor = ?, created_at = ?, updated_at = ?,
				email_verified = ?, phone_verified = ?, self_registered = ? WHERE id = ?`,
				c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
				s.time(c.CreatedAt), s.time(c.UpdatedAt), c.EmailVerified, c.PhoneVerified, c.SelfRegistered, id)
			return err
		})
}

// Passwords.

// SetPassword creates or replaces the citizen's password hash.
func (s *Store) SetPassword(ctx context.Context, citizenID, hash string) error {
	_, err := s.exec(ctx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (citizen_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		citizenID, hash, s.time(s.now()))
	if err != nil {
		return s.wrap(err, "set password of citizen %s", citizenID)
	}
	return nil
}

// PasswordHash returns the citizen's password hash.
func (s *Store) PasswordHash(ctx context.Context, citizenID string) (string, error) {
	var hash string
	err := s.queryRow(ctx, s.db, `SELECT hash FROM password_credentials WHERE citizen_id = ?`, citizenID).Scan(&hash)
	if err != nil {
		return "", s.wrap(err, "password of citizen %s", citizenID)
	}
	return hash, nil
}

// ReplacePasswordHash swaps oldHash for newHash if oldHash is still current.
func (s *Store) ReplacePasswordHash(ctx context.Context, citizenID, oldHash, newHash string) error {
	n, err := s.exec(ctx, `UPDATE password_credentials SET hash = ?, updated_at = ? WHERE citizen_id = ? AND hash = ?`,
		newHash, s.time(s.now()), citizenID, oldHash)
	if err != nil {
		return s.wrap(err, "replace password of citizen %s", citizenID)
	}
	if n == 0 {
		return fmt.Errorf("replace password of citizen %s: %w", citizenID, store.ErrConflict)
	}
	return nil
}
