package store

import (
	"context"
	"time"
)

// CertificateBinding ties a signature certificate to a citizen explicitly,
// for certificates whose subject does not carry the citizen number (an
// official's certificate, a foreign CA). A certificate matches a binding
// by its issuer and serial number, or by the SHA-256 of its public key
// (which survives a renewal that keeps the key).
type CertificateBinding struct {
	ID        string // opaque random identifier
	CitizenID string
	Issuer    string // issuer distinguished name (RFC 4514 text): a CA's name, never a citizen's
	Serial    string // upper-case hex
	// SPKIThumbprint is the base64url SHA-256 of the SubjectPublicKeyInfo.
	SPKIThumbprint string
	Name           string    // the citizen's label, e.g. "USB token"
	CreatedAt      time.Time // filled from the store's clock when zero
	LastUsedAt     time.Time // zero until used to log in
}

// CertificateBindings stores explicit certificate bindings.
type CertificateBindings interface {
	// CreateCertificateBinding inserts b (ID, CitizenID, Issuer, Serial and
	// SPKIThumbprint set). ErrConflict when the ID exists, or when a binding
	// (of anyone) has the same issuer and serial or the same SPKI
	// thumbprint; ErrNotFound when the citizen does not exist.
	CreateCertificateBinding(ctx context.Context, b *CertificateBinding) error
	// CertificateBindingsOf returns the citizen's bindings, oldest first
	// (then by ID); nil when there are none.
	CertificateBindingsOf(ctx context.Context, citizenID string) ([]CertificateBinding, error)
	// FindCertificateBinding returns the binding with this issuer and
	// serial or, failing that, this SPKI thumbprint. ErrNotFound when none.
	FindCertificateBinding(ctx context.Context, issuer, serial, spkiThumbprint string) (*CertificateBinding, error)
	// TouchCertificateBinding sets the binding's LastUsedAt to at.
	// ErrNotFound when absent.
	TouchCertificateBinding(ctx context.Context, id string, at time.Time) error
	// DeleteCertificateBinding removes the citizen's binding id.
	// ErrNotFound when there is no such binding of this citizen.
	DeleteCertificateBinding(ctx context.Context, citizenID, id string) error
}
