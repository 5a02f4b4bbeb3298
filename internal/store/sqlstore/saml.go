package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// SAML service providers.

const spColumns = `entity_id, name, metadata_xml, acs_urls, nameid_format, attributes, allow_citizen_number,
	min_level, encrypt_assertions, require_signed_requests, allow_idp_initiated, disabled, created_at, updated_at, legal_basis, subject_scheme`

func (s *Store) scanSP(r scanner) (*store.ServiceProvider, error) {
	var sp store.ServiceProvider
	if err := r.Scan(&sp.EntityID, &sp.Name, &sp.MetadataXML, s.scanList(&sp.ACSURLs), &sp.NameIDFormat,
		s.scanList(&sp.Attributes), &sp.AllowCitizenNumber, &sp.MinLevel, &sp.EncryptAssertions,
		&sp.RequireSignedRequests, &sp.AllowIdPInitiated, &sp.Disabled, scanTime(&sp.CreatedAt),
		scanTime(&sp.UpdatedAt), &sp.LegalBasis, &sp.SubjectScheme); err != nil {
		return nil, err
	}
	if len(sp.MetadataXML) == 0 {
		sp.MetadataXML = nil
	}
	return &sp, nil
}

// spArgs are the values of spColumns but subject_scheme, which never
// changes after the service provider is created.
func (s *Store) spArgs(sp *store.ServiceProvider) []any {
	return []any{sp.EntityID, sp.Name, nonNilBytes(sp.MetadataXML), s.list(sp.ACSURLs), sp.NameIDFormat,
		s.list(sp.Attributes), sp.AllowCitizenNumber, sp.MinLevel, sp.EncryptAssertions, sp.RequireSignedRequests,
		sp.AllowIdPInitiated, sp.Disabled, s.time(sp.CreatedAt), s.time(sp.UpdatedAt), sp.LegalBasis}
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
	_, err := s.exec(ctx, `INSERT INTO saml_service_providers (`+spColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(s.spArgs(sp), sp.SubjectScheme)...)
	if err != nil {
		return s.wrap(err, "create service provider %s", sp.EntityID)
	}
	return nil
}

// ServiceProviderByEntityID returns the service provider with the entity ID.
func (s *Store) ServiceProviderByEntityID(ctx context.Context, entityID string) (*store.ServiceProvider, error) {
	sp, err := row(ctx, s, s.db, s.scanSP, `SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = ?`, entityID)
	if err != nil {
		return nil, s.wrap(err, "service provider %s", entityID)
	}
	return sp, nil
}

// ListServiceProviders returns every service provider ordered by entity ID.
func (s *Store) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	out, err := rows(ctx, s, s.db, s.scanSP, `SELECT `+spColumns+` FROM saml_service_providers ORDER BY entity_id`)
	if err != nil {
		return nil, s.wrap(err, "list service providers")
	}
	return out, nil
}

// UpdateServiceProvider reads the service provider, applies fn and writes
// it back in one transaction.
func (s *Store) UpdateServiceProvider(ctx context.Context, entityID string, fn func(sp *store.ServiceProvider) error) error {
	var old time.Time
	return update(ctx, s, "update service provider "+entityID, s.scanSP,
		`SELECT `+spColumns+` FROM saml_service_providers WHERE entity_id = ? FOR UPDATE`, entityID,
		func(sp *store.ServiceProvider) error { old = sp.UpdatedAt; return fn(sp) },
		func(tx *sql.Tx, sp *store.ServiceProvider) error {
			if sp.EntityID != entityID {
				return errors.New("entity id cannot change")
			}
			s.stamp(&sp.UpdatedAt, old)
			normSP(sp)
			_, err := s.execTx(ctx, tx, `UPDATE saml_service_providers SET name = ?, metadata_xml = ?, acs_urls = ?,
				nameid_format = ?, attributes = ?, allow_citizen_number = ?, min_level = ?, encrypt_assertions = ?,
				require_signed_requests = ?, allow_idp_initiated = ?, disabled = ?, created_at = ?, updated_at = ?,
				legal_basis = ? WHERE entity_id = ?`, append(s.spArgs(sp)[1:], entityID)...)
			return err
		})
}

// DeleteServiceProvider deletes the service provider.
func (s *Store) DeleteServiceProvider(ctx context.Context, entityID string) error {
	n, err := s.exec(ctx, `DELETE FROM saml_service_providers WHERE entity_id = ?`, entityID)
	if err != nil {
		return s.wrap(err, "delete service provider %s", entityID)
	}
	if n == 0 {
		return fmt.Errorf("delete service provider %s: %w", entityID, store.ErrNotFound)
	}
	return nil
}

var _ store.ServiceProviders = (*Store)(nil)
