package sqlite

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
	var created string
	var lastUsed sql.NullString
	if err := r.Scan(&b.ID, &b.CitizenID, &b.Issuer, &b.Serial, &b.SPKIThumbprint, &b.Name, &created, &lastUsed); err != nil {
		return nil, err
	}
	var err error
	if b.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if b.LastUsedAt, err = decNullTime(lastUsed); err != nil {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO certificate_bindings (`+bindingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.CitizenID, b.Issuer, b.Serial, b.SPKIThumbprint, b.Name, encTime(b.CreatedAt), encNullTime(b.LastUsedAt))
		return err
	})
	if err != nil {
		return wrap(err, "create certificate binding")
	}
	return nil
}

// CertificateBindingsOf returns the citizen's bindings, oldest first.
func (s *Store) CertificateBindingsOf(ctx context.Context, citizenID string) ([]store.CertificateBinding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE citizen_id = ? ORDER BY created_at, id`, citizenID)
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
	b, err := scanBinding(s.db.QueryRowContext(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
		WHERE issuer = ? AND serial = ?`, issuer, serial))
	if errors.Is(err, sql.ErrNoRows) {
		b, err = scanBinding(s.db.QueryRowContext(ctx, `SELECT `+bindingColumns+` FROM certificate_bindings
			WHERE spki_thumbprint = ?`, spki))
	}
	if err != nil {
		return nil, wrap(err, "find certificate binding")
	}
	return b, nil
}

// TouchCertificateBinding records a use of the binding.
func (s *Store) TouchCertificateBinding(ctx context.Context, id string, at time.Time) error {
	return s.affectOne(ctx, "touch certificate binding", `UPDATE certificate_bindings SET last_used_at = ? WHERE id = ?`, encTime(at), id)
}

// DeleteCertificateBinding removes the citizen's binding.
func (s *Store) DeleteCertificateBinding(ctx context.Context, citizenID, id string) error {
	return s.affectOne(ctx, "delete certificate binding", `DELETE FROM certificate_bindings WHERE id = ? AND citizen_id = ?`, id, citizenID)
}

// affectOne runs a statement that must change exactly one row.
func (s *Store) affectOne(ctx context.Context, what, query string, args ...any) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
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
		return wrap(err, "%s", what)
	}
	return nil
}

var _ store.CertificateBindings = (*Store)(nil)
