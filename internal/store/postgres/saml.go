package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citizenid/citizenid/internal/store"
)

// SAML service providers.

const spColumns = `entity_id, name, metadata_xml, acs_urls, nameid_format, attributes, allow_citizen_number,
	min_level, encrypt_assertions, require_signed_requests, allow_idp_initiated, disabled, created_at, updated_at, subject_scheme`

func scanSP(r scanner) (*store.ServiceProvider, error) {
	var sp store.ServiceProvider
	if err := r.Scan(&sp.EntityID, &sp.Name, &sp.MetadataXML, &sp.ACSURLs, &sp.NameIDFormat, &sp.Attributes,
		&sp.AllowCitizenNumber, &sp.MinLevel, &sp.EncryptAssertions, &sp.RequireSignedRequests, &sp.AllowIdPInitiated,
		&sp.Disabled, &sp.CreatedAt, &sp.UpdatedAt, &sp.SubjectScheme); err != nil {
		return nil, err
	}
	sp.ACSURLs = fromList(sp.ACSURLs)
	sp.Attributes = fromList(sp.Attributes)
	if len(sp.MetadataXML) == 0 {
		sp.MetadataXML = nil
	}
	sp.CreatedAt = sp.CreatedAt.UTC()
	sp.UpdatedAt = sp.UpdatedAt.UTC()
	return &sp, nil
}

func spArgs(sp *store.ServiceProvider) []any {
	return []any{sp.EntityID, sp.Name, nonNilBytes(sp.MetadataXML), list(sp.ACSURLs), sp.NameIDFormat, list(sp.Attributes),
		sp.AllowCitizenNumber, sp.MinLevel, sp.EncryptAssertions, sp.RequireSignedRequests, sp.AllowIdPInitiated,
		sp.Disabled, sp.CreatedAt, sp.UpdatedAt}
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
	_, err := s.pool.Exec(ctx, `INSERT INTO saml_service_providers (`+spColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, append(spArgs(sp), sp.SubjectScheme)...)
	if err != nil {
		return wrap(err, "create service provider %s", sp.EntityID)
	}
	return nil
}

// ServiceProviderByEntityID returns the service provider with the entity ID.
func (s *Store) ServiceProviderByEntityID(ctx context.Context, entityID string) (*store.ServiceProvider, error) {
	sp, err := scanSP(s.pool.QueryRow(ctx, `SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = $1`, entityID))
	if err != nil {
		return nil, wrap(err, "service provider %s", entityID)
	}
	return sp, nil
}

// ListServiceProviders returns every service provider ordered by entity ID.
func (s *Store) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+spColumns+` FROM saml_service_providers ORDER BY entity_id`)
	if err != nil {
		return nil, wrap(err, "list service providers")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ServiceProvider, error) {
		sp, err := scanSP(r)
		if err != nil {
			return store.ServiceProvider{}, err
		}
		return *sp, nil
	})
	if err != nil {
		return nil, wrap(err, "list service providers")
	}
	return out, nil
}

// UpdateServiceProvider reads the service provider, applies fn and writes
// it back in one transaction.
func (s *Store) UpdateServiceProvider(ctx context.Context, entityID string, fn func(sp *store.ServiceProvider) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sp, err := scanSP(tx.QueryRow(ctx, `SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = $1 FOR UPDATE`, entityID))
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
		_, err = tx.Exec(ctx, `UPDATE saml_service_providers SET name = $2, metadata_xml = $3, acs_urls = $4,
			nameid_format = $5, attributes = $6, allow_citizen_number = $7, min_level = $8, encrypt_assertions = $9,
			require_signed_requests = $10, allow_idp_initiated = $11, disabled = $12, created_at = $13, updated_at = $14
			WHERE entity_id = $1`, spArgs(sp)...)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM saml_service_providers WHERE entity_id = $1`, entityID)
	if err != nil {
		return wrap(err, "delete service provider %s", entityID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete service provider %s: %w", entityID, store.ErrNotFound)
	}
	return nil
}

var _ store.ServiceProviders = (*Store)(nil)
