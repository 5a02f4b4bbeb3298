package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizenid/citizenid/internal/store"
)

// SAML service providers.

const spColumns = `entity_id, name, metadata_xml, acs_urls, nameid_format, attributes, allow_citizen_number,
	min_level, encrypt_assertions, require_signed_requests, allow_idp_initiated, disabled, created_at, updated_at, subject_scheme`

func scanSP(r scanner) (*store.ServiceProvider, error) {
	var sp store.ServiceProvider
	var acs, attrs, created, updated string
	if err := r.Scan(&sp.EntityID, &sp.Name, &sp.MetadataXML, &acs, &sp.NameIDFormat, &attrs, &sp.AllowCitizenNumber,
		&sp.MinLevel, &sp.EncryptAssertions, &sp.RequireSignedRequests, &sp.AllowIdPInitiated, &sp.Disabled,
		&created, &updated, &sp.SubjectScheme); err != nil {
		return nil, err
	}
	var err error
	if sp.ACSURLs, err = decList(acs); err != nil {
		return nil, err
	}
	if sp.Attributes, err = decList(attrs); err != nil {
		return nil, err
	}
	if sp.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if sp.UpdatedAt, err = decTime(updated); err != nil {
		return nil, err
	}
	if len(sp.MetadataXML) == 0 {
		sp.MetadataXML = nil
	}
	return &sp, nil
}

func spArgs(sp *store.ServiceProvider) []any {
	md := sp.MetadataXML
	if md == nil {
		md = []byte{}
	}
	return []any{sp.EntityID, sp.Name, md, encList(sp.ACSURLs), sp.NameIDFormat, encList(sp.Attributes),
		sp.AllowCitizenNumber, sp.MinLevel, sp.EncryptAssertions, sp.RequireSignedRequests, sp.AllowIdPInitiated,
		sp.Disabled, encTime(sp.CreatedAt), encTime(sp.UpdatedAt)}
}

func normSP(sp *store.ServiceProvider) {
	sp.CreatedAt = norm(sp.CreatedAt)
	sp.UpdatedAt = norm(sp.UpdatedAt)
}

// CreateServiceProvider inserts sp.
func (s *Store) CreateServiceProvider(ctx context.Context, sp *store.ServiceProvider) error {
	if sp.EntityID == "" {
		return errors.New("create service provider: entity id is required")
	}
	if sp.CreatedAt.IsZero() {
		sp.CreatedAt = s.now()
	}
	if sp.UpdatedAt.IsZero() {
		sp.UpdatedAt = sp.CreatedAt
	}
	normSP(sp)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO saml_service_providers (`+spColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(spArgs(sp), sp.SubjectScheme)...)
		return err
	})
	if err != nil {
		return wrap(err, "create service provider %s", sp.EntityID)
	}
	return nil
}

// ServiceProviderByEntityID returns the service provider with the entity ID.
func (s *Store) ServiceProviderByEntityID(ctx context.Context, entityID string) (*store.ServiceProvider, error) {
	sp, err := scanSP(s.db.QueryRowContext(ctx, `SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = ?`, entityID))
	if err != nil {
		return nil, wrap(err, "service provider %s", entityID)
	}
	return sp, nil
}

// ListServiceProviders returns every service provider ordered by entity ID.
func (s *Store) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+spColumns+` FROM saml_service_providers ORDER BY entity_id`)
	if err != nil {
		return nil, wrap(err, "list service providers")
	}
	defer rows.Close()
	var out []store.ServiceProvider
	for rows.Next() {
		sp, err := scanSP(rows)
		if err != nil {
			return nil, wrap(err, "list service providers")
		}
		out = append(out, *sp)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list service providers")
	}
	return out, nil
}

// UpdateServiceProvider reads the service provider, applies fn and writes
// it back in one transaction.
func (s *Store) UpdateServiceProvider(ctx context.Context, entityID string, fn func(sp *store.ServiceProvider) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		sp, err := scanSP(tx.QueryRowContext(ctx, `SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = ?`, entityID))
		if err != nil {
			return err
		}
		old := sp.UpdatedAt
		if err := fn(sp); err != nil {
			fnErr = err
			return err
		}
		if sp.EntityID != entityID {
			return errors.New("entity id cannot change")
		}
		if sp.UpdatedAt.Equal(old) {
			sp.UpdatedAt = s.now()
		}
		normSP(sp)
		args := append(spArgs(sp)[1:], entityID)
		_, err = tx.ExecContext(ctx, `UPDATE saml_service_providers SET name = ?, metadata_xml = ?, acs_urls = ?,
			nameid_format = ?, attributes = ?, allow_citizen_number = ?, min_level = ?, encrypt_assertions = ?,
			require_signed_requests = ?, allow_idp_initiated = ?, disabled = ?, created_at = ?, updated_at = ?
			WHERE entity_id = ?`, args...)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update service provider %s", entityID)
	}
	return nil
}

// DeleteServiceProvider deletes the service provider.
func (s *Store) DeleteServiceProvider(ctx context.Context, entityID string) error {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM saml_service_providers WHERE entity_id = ?`, entityID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap(err, "delete service provider %s", entityID)
	}
	if n == 0 {
		return fmt.Errorf("delete service provider %s: %w", entityID, store.ErrNotFound)
	}
	return nil
}

var _ store.ServiceProviders = (*Store)(nil)
