package store

import (
	"context"
	"time"
)

// Bases on which personal data goes to a portal.
const (
	// BasisConsent: the citizen approved the release on the consent page.
	BasisConsent = "consent"
	// BasisLegal: the portal is registered with a legal basis; the
	// citizen was shown a notice naming it.
	BasisLegal = "legal_basis"
)

// Consent is one approval a citizen gave a portal (or one legal-basis
// notice the citizen was shown): which attributes, on what basis, under
// which version of the consent text. Rows are never deleted while the
// citizen exists: a withdrawal sets WithdrawnAt, a later approval is a new
// row, so the citizen's history (and export) lists every one.
type Consent struct {
	ID        string
	CitizenID string
	// Portal is the protocol-qualified key of the portal: "oidc:<client
	// id>" or "saml:<entity id>".
	Portal string
	// PortalName is the portal's name when the citizen approved, kept so
	// the history reads the same after the portal is renamed or removed.
	PortalName string
	// Attributes are release.Attribute names, in page order.
	Attributes []string
	Basis      string // BasisConsent or BasisLegal
	// LegalBasis is the basis the notice named (BasisLegal only).
	LegalBasis string
	// TextVersion is the version of the consent text the citizen read.
	TextVersion int
	GrantedAt   time.Time // filled from the store's clock when zero
	WithdrawnAt time.Time // zero while in force
}

// Consents stores citizens' approvals of portals.
type Consents interface {
	// GrantConsent inserts c (ID, CitizenID, Portal and Basis set) as a
	// new row in force; earlier rows of the citizen and portal stay as
	// they are (ActiveConsent returns the latest). ErrConflict when the
	// ID exists; ErrNotFound when the citizen does not exist.
	GrantConsent(ctx context.Context, c *Consent) error
	// ActiveConsent returns the latest consent of the citizen to the
	// portal that is not withdrawn; ErrNotFound when there is none.
	ActiveConsent(ctx context.Context, citizenID, portal string) (*Consent, error)
	// ConsentsOf returns every consent of the citizen, in force or
	// withdrawn, oldest first (by GrantedAt, then ID).
	ConsentsOf(ctx context.Context, citizenID string) ([]Consent, error)
	// WithdrawConsent marks every consent of the citizen to the portal
	// that is in force as withdrawn at now, in one statement.
	// ErrNotFound (and nothing changed) when none is in force.
	WithdrawConsent(ctx context.Context, citizenID, portal string, now time.Time) error
}
