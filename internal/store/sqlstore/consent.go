package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Consents.

const consentColumns = `id, citizen_id, portal, portal_name, attributes, basis, legal_basis, text_version,
	granted_at, withdrawn_at`

func (s *Store) scanConsent(r scanner) (*store.Consent, error) {
	var c store.Consent
	if err := r.Scan(&c.ID, &c.CitizenID, &c.Portal, &c.PortalName, s.scanList(&c.Attributes), &c.Basis,
		&c.LegalBasis, &c.TextVersion, scanTime(&c.GrantedAt), scanTime(&c.WithdrawnAt)); err != nil {
		return nil, err
	}
	return &c, nil
}

// GrantConsent inserts c as a new row.
func (s *Store) GrantConsent(ctx context.Context, c *store.Consent) error {
	if c.ID == "" || c.CitizenID == "" || c.Portal == "" || c.Basis == "" {
		return errors.New("grant consent: id, citizen, portal and basis are required")
	}
	if c.GrantedAt.IsZero() {
		c.GrantedAt = s.now()
	}
	c.GrantedAt = norm(c.GrantedAt)
	c.WithdrawnAt = norm(c.WithdrawnAt)
	_, err := s.exec(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.CitizenID, c.Portal, c.PortalName, s.list(c.Attributes), c.Basis, c.LegalBasis, c.TextVersion,
		s.time(c.GrantedAt), s.nullTime(c.WithdrawnAt))
	if err != nil {
		return s.wrap(err, "grant consent %s", c.ID)
	}
	return nil
}

// ActiveConsent returns the latest consent in force.
func (s *Store) ActiveConsent(ctx context.Context, citizenID, portal string) (*store.Consent, error) {
	c, err := row(ctx, s, s.db, s.scanConsent, `SELECT `+consentColumns+` FROM consents
		WHERE citizen_id = ? AND portal = ? AND withdrawn_at IS NULL
		ORDER BY granted_at DESC, id DESC LIMIT 1`, citizenID, portal)
	if err != nil {
		return nil, s.wrap(err, "active consent")
	}
	return c, nil
}

// ConsentsOf returns every consent of the citizen, oldest first.
func (s *Store) ConsentsOf(ctx context.Context, citizenID string) ([]store.Consent, error) {
	out, err := rows(ctx, s, s.db, s.scanConsent, `SELECT `+consentColumns+` FROM consents
		WHERE citizen_id = ? ORDER BY granted_at, id`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "consents of citizen")
	}
	return out, nil
}

// WithdrawConsent marks the consents in force withdrawn.
func (s *Store) WithdrawConsent(ctx context.Context, citizenID, portal string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE consents SET withdrawn_at = ?
		WHERE citizen_id = ? AND portal = ? AND withdrawn_at IS NULL`, s.time(now), citizenID, portal)
	if err != nil {
		return s.wrap(err, "withdraw consent")
	}
	if n == 0 {
		return fmt.Errorf("withdraw consent: %w", store.ErrNotFound)
	}
	return nil
}

var _ store.Consents = (*Store)(nil)
