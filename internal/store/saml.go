package store

import (
	"context"
	"time"
)

// ServiceProvider is a SAML 2.0 service provider: an older portal that logs
// citizens in through CitizenID's SAML identity provider. It is registered
// from its metadata; what the metadata says is kept as given
// (MetadataXML), and the rest is CitizenID's policy for it.
type ServiceProvider struct {
	EntityID    string // the SP's entity ID, from its metadata
	Name        string // shown to citizens
	MetadataXML []byte // the SP's metadata document, as registered
	// ACSURLs are the HTTP-POST AssertionConsumerService locations of the
	// metadata that assertions may be sent to; nothing else is.
	ACSURLs []string
	// NameIDFormat is how the SP knows the citizen when it does not ask:
	// a persistent pairwise identifier (the default), a transient one, or
	// the citizen number (only with AllowCitizenNumber). It holds the
	// NameID format URI.
	NameIDFormat string
	// Attributes lists the attributes released to the SP: name,
	// birthdate, identity_level, citizen_number (the last only with
	// AllowCitizenNumber).
	Attributes         []string
	AllowCitizenNumber bool
	MinLevel           int  // minimum authentication level, 1..4
	EncryptAssertions  bool // encrypt assertions to the SP's encryption certificate
	// RequireSignedRequests refuses AuthnRequests that are not signed
	// with a key of the SP's metadata.
	RequireSignedRequests bool
	// AllowIdPInitiated lets a link at CitizenID send the SP an
	// assertion it did not ask for (with a RelayState).
	AllowIdPInitiated bool
	Disabled          bool
	// SubjectScheme is how pairwise identifiers are derived for the SP
	// (oidc.PairwiseSubject): 0 the current scheme, 1 the scheme of SPs
	// registered before protocols were kept apart. Set at creation only.
	SubjectScheme int
	// LegalBasis, as Client.LegalBasis: citizens are notified instead
	// of asked.
	LegalBasis string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ServiceProviders stores SAML service providers.
type ServiceProviders interface {
	// CreateServiceProvider inserts sp. ErrConflict when the entity ID
	// exists. A zero CreatedAt/UpdatedAt is filled from the store's clock.
	CreateServiceProvider(ctx context.Context, sp *ServiceProvider) error
	// ServiceProviderByEntityID returns ErrNotFound when absent.
	ServiceProviderByEntityID(ctx context.Context, entityID string) (*ServiceProvider, error)
	// ListServiceProviders returns every service provider ordered by
	// entity ID (bytewise).
	ListServiceProviders(ctx context.Context) ([]ServiceProvider, error)
	// UpdateServiceProvider reads the service provider, applies fn and
	// writes it back in one transaction; fn may not change EntityID. An
	// error from fn is returned as is and nothing is written. ErrNotFound
	// when absent.
	UpdateServiceProvider(ctx context.Context, entityID string, fn func(sp *ServiceProvider) error) error
	// DeleteServiceProvider returns ErrNotFound when absent.
	DeleteServiceProvider(ctx context.Context, entityID string) error
}
