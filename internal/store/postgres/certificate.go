package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/citizenid/citizenid/internal/store"
)

// Certificate bindings.

const bindingColumns = `id, citizen_id, issuer, serial, spki_thumbprint, name, created_at, last_used_at`

func scanBinding(r scanner) (*store.CertificateBinding, error) {
	var b store.CertificateBinding
	var lastUsed pgtype.Timestamptz
	if err := r.Scan(&b.ID, &b.CitizenID, &b.Issuer, &b.Serial, &b.SPKIThumbprint, &b.Name, &b.CreatedAt, &lastUsed); err != nil {
		return nil, err
	}
	b.CreatedAt = b.CreatedAt.UTC()
	b.LastUsedAt = fromNull(lastUsed)
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
	_, err := s.pool.Exec(ctx, `INSERT INTO certificate_bindings (`+bindingColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		b.ID, b.CitizenID, b.Issuer, b.Serial, b.SPKIThumbprint, b.Name, b.CreatedAt, nullTime(b.LastUsedAt))
	if err != nil {
		return wrap(err, "create certificate binding")
	}
	return nil
}

// CertificateBindingsOf returns the citizen's bindings, oldest first.
func (s *Store) CertificateBindingsOf(ctx context.Context, citizenID string) ([]store.CertificateBinding, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE citizen_id = $1 ORDER BY created_at, id COLLATE "C"`, citizenID)
	if err != nil {
		return nil, wrap(err, "certificate bindings of citizen %s", citizenID)
	}
	defer rows.Close()
	var out []store.CertificateBinding
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, wrap(err, "certificate bindings of citizen %s", citizenID)
		}
		out = append(out, *b)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "certificate bindings of citizen %s", citizenID)
	}
	return out, nil
}

// FindCertificateBinding returns the binding matching issuer and serial, or the SPKI thumbprint.
func (s *Store) FindCertificateBinding(ctx context.Context, issuer, serial, spki string) (*store.CertificateBinding, error) {
	b, err := scanBinding(s.pool.QueryRow(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE issuer = $1 AND serial = $2`, issuer, serial))
	if errors.Is(err, pgx.ErrNoRows) {
		b, err = scanBinding(s.pool.QueryRow(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
			WHERE spki_thumbprint = $1`, spki))
	}
	if err != nil {
		return nil, wrap(err, "find certificate binding")
	}
	return b, nil
}

// TouchCertificateBinding records a use of the binding.
func (s *Store) TouchCertificateBinding(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE certificate_bindings SET last_used_at = $2 WHERE id = $1`, id, norm(at))
	if err != nil {
		return wrap(err, "touch certificate binding")
	}
	if tag.RowsAffected() == 0 {
		return wrap(store.ErrNotFound, "touch certificate binding")
	}
	return nil
}

// DeleteCertificateBinding removes the citizen's binding.
func (s *Store) DeleteCertificateBinding(ctx context.Context, citizenID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM certificate_bindings WHERE id = $1 AND citizen_id = $2`, id, citizenID)
	if err != nil {
		return wrap(err, "delete certificate binding")
	}
	if tag.RowsAffected() == 0 {
		return wrap(store.ErrNotFound, "delete certificate binding")
	}
	return nil
}

var _ store.CertificateBindings = (*Store)(nil)
