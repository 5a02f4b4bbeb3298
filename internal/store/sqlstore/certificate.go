package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Certificate bindings.

const bindingColumns = `id, citizen_id, issuer, serial, spki_thumbprint, name, created_at, last_used_at`

func scanBinding(r scanner) (*store.CertificateBinding, error) {
	var b store.CertificateBinding
	if err := r.Scan(&b.ID, &b.CitizenID, &b.Issuer, &b.Serial, &b.SPKIThumbprint, &b.Name,
		scanTime(&b.CreatedAt), scanTime(&b.LastUsedAt)); err != nil {
		return nil, err
	}
	return &b, nil
}

// CreateCertificateBinding inserts b.
func (s *Store) CreateCertificateBinding(ctx context.Context, b *store.CertificateBinding) error {
	if b.ID == "" || b.CitizenID == "" || b.Issuer == "" || b.Serial == "" || b.SPKIThumbprint == "" {
		return errors.New("create certificate binding: id, citizen, issuer, serial and SPKI thumbprint are required")
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = s.now()
	}
	b.CreatedAt, b.LastUsedAt = norm(b.CreatedAt), norm(b.LastUsedAt)
	_, err := s.exec(ctx, `INSERT INTO certificate_bindings (`+bindingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.CitizenID, b.Issuer, b.Serial, b.SPKIThumbprint, b.Name, s.time(b.CreatedAt), s.nullTime(b.LastUsedAt))
	if err != nil {
		return s.wrap(err, "create certificate binding")
	}
	return nil
}

// CertificateBindingsOf returns the citizen's bindings, oldest first.
func (s *Store) CertificateBindingsOf(ctx context.Context, citizenID string) ([]store.CertificateBinding, error) {
	out, err := rows(ctx, s, s.db, scanBinding, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE citizen_id = ? ORDER BY created_at, id COLLATE BINARY`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "certificate bindings of citizen %s", citizenID)
	}
	return out, nil
}

// FindCertificateBinding returns the binding matching issuer and serial, or the SPKI thumbprint.
func (s *Store) FindCertificateBinding(ctx context.Context, issuer, serial, spki string) (*store.CertificateBinding, error) {
	b, err := row(ctx, s, s.db, scanBinding, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE issuer = ? AND serial = ?`, issuer, serial)
	if errors.Is(err, sql.ErrNoRows) {
		b, err = row(ctx, s, s.db, scanBinding, `SELECT `+bindingColumns+` FROM certificate_bindings
			WHERE spki_thumbprint = ?`, spki)
	}
	if err != nil {
		return nil, s.wrap(err, "find certificate binding")
	}
	return b, nil
}

// TouchCertificateBinding records a use of the binding.
func (s *Store) TouchCertificateBinding(ctx context.Context, id string, at time.Time) error {
	if err := s.execOne(ctx, `UPDATE certificate_bindings SET last_used_at = ? WHERE id = ?`, s.time(at), id); err != nil {
		return s.wrap(err, "touch certificate binding")
	}
	return nil
}

// DeleteCertificateBinding removes the citizen's binding.
func (s *Store) DeleteCertificateBinding(ctx context.Context, citizenID, id string) error {
	if err := s.execOne(ctx, `DELETE FROM certificate_bindings WHERE id = ? AND citizen_id = ?`, id, citizenID); err != nil {
		return s.wrap(err, "delete certificate binding")
	}
	return nil
}

var _ store.CertificateBindings = (*Store)(nil)
