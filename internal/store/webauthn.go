package store

import (
	"context"
	"time"
)

// WebAuthnCredential is a passkey or security key a citizen registered
// (WebAuthn public-key credential). A citizen may have several.
type WebAuthnCredential struct {
	ID        []byte // credential ID chosen by the authenticator; unique across all citizens
	CitizenID string
	PublicKey []byte // COSE_Key as the authenticator sent it
	// SignCount is the highest signature counter accepted so far; 0 for
	// authenticators that keep no counter.
	SignCount uint32
	AAGUID    []byte // authenticator model, 16 bytes (all zero when not disclosed)
	// Transports are the authenticator's transport hints ("internal",
	// "usb", "hybrid", ...), passed back to the browser at login.
	Transports        []string
	AttestationFormat string // "none", "packed", ...
	// BackupEligible (BE) is fixed at registration: true for a synced
	// passkey, false for a device-bound credential. BackupState (BS) is
	// whether it is backed up now, updated at every login.
	BackupEligible bool
	BackupState    bool
	// UserVerified is whether the authenticator verified the citizen at
	// registration. It says nothing about a later login.
	UserVerified bool
	Name         string    // chosen by the citizen, e.g. "Điện thoại của tôi"
	CreatedAt    time.Time // filled from the store's clock when zero
	LastUsedAt   time.Time // zero until first used for a login
	// Flagged marks a credential that is possibly cloned (its signature
	// counter went backwards); it is never accepted again.
	Flagged bool
}

// WebAuthnCredentials stores WebAuthn credentials.
type WebAuthnCredentials interface {
	// CreateWebAuthnCredential inserts c (ID, CitizenID and PublicKey must
	// be set). ErrConflict when a credential with the same ID exists, for
	// this citizen or another; ErrNotFound when the citizen does not exist.
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// ListWebAuthnCredentials returns the citizen's credentials, oldest
	// first (then by ID); none for an unknown citizen.
	ListWebAuthnCredentials(ctx context.Context, citizenID string) ([]WebAuthnCredential, error)
	// WebAuthnCredentialByID returns the credential with this ID, whoever
	// owns it; ErrNotFound when absent.
	WebAuthnCredentialByID(ctx context.Context, id []byte) (*WebAuthnCredential, error)
	// RecordWebAuthnUse records a login with the credential: count is the
	// assertion's signature counter and backupState its BS flag. As one
	// compare-and-set, it advances the credential's counter, BackupState and
	// LastUsedAt (to at) when count is above SignCount or both are 0 (an
	// authenticator without a counter): WebAuthnUsed. A count that is not
	// above a non-zero SignCount flags the credential and changes nothing
	// else: WebAuthnRegressed. A credential flagged already is not
	// touched: WebAuthnFlagged. With those two it returns SignCount (which
	// it left as it was). Of concurrent uses with the same count exactly
	// one is WebAuthnUsed.
	// ErrNotFound when absent.
	RecordWebAuthnUse(ctx context.Context, id []byte, count uint32, backupState bool, at time.Time) (WebAuthnUse, uint32, error)
	// DeleteWebAuthnCredential removes the citizen's credential with this
	// ID. ErrNotFound (and nothing removed) when the citizen has no such
	// credential, including when another citizen owns it.
	DeleteWebAuthnCredential(ctx context.Context, citizenID string, id []byte) error
}

// WebAuthnUse is what RecordWebAuthnUse made of a login.
type WebAuthnUse int

const (
	WebAuthnUsed      WebAuthnUse = iota + 1 // the counter advanced: the use is recorded
	WebAuthnRegressed                        // the counter did not advance: flagged now
	WebAuthnFlagged                          // flagged before: nothing written
)
