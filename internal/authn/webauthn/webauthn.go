package webauthn

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/go-webauthn/webauthn/protocol"
	"golang.org/x/text/unicode/norm"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Errors a caller branches on; check them with errors.Is. Their text never
// carries personal data.
var (
	// ErrNoChallenge: no ceremony is pending under that ID (never begun,
	// already used, expired from Redis, or begun for another citizen).
	ErrNoChallenge = errors.New("webauthn: no pending challenge")
	// ErrExpired: the ceremony is older than Options.Timeout.
	ErrExpired = errors.New("webauthn: challenge expired")
	// ErrInvalid: the response does not verify (malformed, wrong origin or
	// RP ID, wrong challenge, bad signature, inconsistent flags).
	ErrInvalid = errors.New("webauthn: response does not verify")
	// ErrUnknownCredential: no such credential, or not the citizen's.
	ErrUnknownCredential = errors.New("webauthn: unknown credential")
	// ErrCloned: the credential's signature counter did not move forward
	// (it is now flagged), or it was flagged before. It is not accepted.
	ErrCloned = errors.New("webauthn: credential possibly cloned")
	// ErrUserNotVerified: a registration without user verification.
	ErrUserNotVerified = errors.New("webauthn: user not verified")
	// ErrNotAllowed: the authenticator is refused by the attestation
	// policy (AAGUID allow-list).
	ErrNotAllowed = errors.New("webauthn: authenticator model not allowed")
	// ErrExists: the credential is already registered.
	ErrExists = errors.New("webauthn: credential already registered")
)

// Store is the slice of storage this package needs; store.Store has it.
type Store interface {
	store.WebAuthnCredentials
}

// Options configure an Authenticator.
type Options struct {
	RPID          string   // relying party ID, a domain (never an IP address)
	RPDisplayName string   // shown by some authenticators; "CitizenID" when empty
	Origins       []string // every origin whose pages may use the credentials
	// Attestation is "none" (default) or "direct".
	Attestation string
	// AllowedAAGUIDs, when not empty, are the only authenticator models
	// (UUID form) that may register, with a verified attestation.
	AllowedAAGUIDs []string
	Timeout        time.Duration // life of a challenge; 5 minutes when zero
	Store          Store         // required
	Sessions       *session.Store
	// UserHandleKey keys the user handles given to authenticators, at least
	// 16 bytes; the caller derives it from the master key.
	UserHandleKey []byte
	Audit         *audit.Logger
	Now           func() time.Time
}

// Authenticator registers and verifies WebAuthn credentials. It is safe
// for concurrent use.
type Authenticator struct {
	wa      *gowebauthn.WebAuthn
	o       Options
	allowed []string // AAGUIDs, lowercase UUID form
}

// New returns an Authenticator. It panics when a required dependency is
// missing (a wiring mistake) and returns an error for a bad relying-party
// configuration.
func New(o Options) (*Authenticator, error) {
	switch {
	case o.Store == nil:
		panic("webauthn.New: Options.Store is required")
	case o.Sessions == nil:
		panic("webauthn.New: Options.Sessions is required")
	case o.Audit == nil:
		panic("webauthn.New: Options.Audit is required")
	case len(o.UserHandleKey) < 16:
		panic("webauthn.New: Options.UserHandleKey must be at least 16 bytes")
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.RPDisplayName == "" {
		o.RPDisplayName = "CitizenID"
	}
	if o.Attestation == "" {
		o.Attestation = "none"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.UserHandleKey = bytes.Clone(o.UserHandleKey)
	a := &Authenticator{o: o}
	for _, id := range o.AllowedAAGUIDs {
		a.allowed = append(a.allowed, strings.ToLower(id))
	}
	switch o.Attestation {
	case "none":
		if len(a.allowed) > 0 {
			return nil, errors.New("webauthn: an AAGUID allow-list needs attestation \"direct\"")
		}
	case "direct":
	default:
		return nil, fmt.Errorf("webauthn: attestation %q: none or direct", o.Attestation)
	}
	wa, err := gowebauthn.New(&gowebauthn.Config{
		RPID:                  o.RPID,
		RPDisplayName:         o.RPDisplayName,
		RPOrigins:             slices.Clone(o.Origins),
		AttestationPreference: protocol.ConveyancePreference(o.Attestation),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: new(false),
			UserVerification:   protocol.VerificationRequired,
		},
		// Expiry is enforced here with the injected clock, not by the
		// library (which would read the wall clock).
		Timeouts: gowebauthn.TimeoutsConfig{
			Login:        gowebauthn.TimeoutConfig{Timeout: o.Timeout},
			Registration: gowebauthn.TimeoutConfig{Timeout: o.Timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	a.wa = wa
	return a, nil
}

// RPID is the relying party ID credentials are bound to.
func (a *Authenticator) RPID() string { return a.o.RPID }

// Redis buckets of pending ceremonies.
var (
	kindRegistration = session.NewBucket[pendingRegistration]("war") // by random ceremony ID
	kindLogin        = session.NewBucket[pendingLogin]("wal")        // by binding (the login transaction ID)
)

// userHandle is the citizen's WebAuthn user handle: stable, opaque, and
// the same for every credential of the citizen.
func (a *Authenticator) userHandle(citizenID string) []byte {
	m := hmac.New(sha256.New, a.o.UserHandleKey)
	m.Write([]byte("citizenid webauthn user handle:" + citizenID))
	return m.Sum(nil)
}

// user is a citizen as go-webauthn sees one.
type user struct {
	id            []byte
	name, display string
	creds         []gowebauthn.Credential
}

func (u *user) WebAuthnID() []byte                           { return u.id }
func (u *user) WebAuthnName() string                         { return u.name }
func (u *user) WebAuthnDisplayName() string                  { return u.display }
func (u *user) WebAuthnCredentials() []gowebauthn.Credential { return u.creds }

// libCredential is a stored credential as go-webauthn sees one.
func libCredential(c store.WebAuthnCredential) gowebauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return gowebauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationFormat: c.AttestationFormat,
		Transport:         tr,
		Flags: gowebauthn.CredentialFlags{
			UserPresent: true, UserVerified: c.UserVerified,
			BackupEligible: c.BackupEligible, BackupState: c.BackupState,
		},
		Authenticator: gowebauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

func (a *Authenticator) userOf(citizenID string, creds []store.WebAuthnCredential) *user {
	u := &user{id: a.userHandle(citizenID)}
	for _, c := range creds {
		u.creds = append(u.creds, libCredential(c))
	}
	return u
}

// MaxNameLen is the longest credential name kept, in characters.
const MaxNameLen = 64

// CleanName normalises the name a citizen gives a credential: NFC, spaces
// collapsed, control characters refused, at most MaxNameLen characters;
// "Passkey" when empty. ok is false when the name cannot be used.
func CleanName(s string) (name string, ok bool) {
	if !utf8.ValidString(s) || len(s) > 16*MaxNameLen {
		return "", false
	}
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", false
		}
	}
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", false
	}
	if s == "" {
		s = "Passkey"
	}
	return s, true
}

// Registration is a pending registration: show Options to the browser
// (navigator.credentials.create) and post the response back with ID.
type Registration struct {
	ID      string // ceremony ID, single use
	Name    string // the cleaned name the credential will get
	Options []byte // JSON {"publicKey": …}
}

type pendingRegistration struct {
	CitizenID string                 `json:"citizen_id"`
	Name      string                 `json:"name"`
	Session   gowebauthn.SessionData `json:"session"`
	Expires   time.Time              `json:"expires"`
}

// ErrName: the credential name cannot be used (see CleanName).
var ErrName = errors.New("webauthn: invalid credential name")

// BeginRegistration starts registering a credential for the citizen under
// name. The citizen's existing credentials are excluded, so an
// authenticator that holds one says so instead of registering twice.
func (a *Authenticator) BeginRegistration(ctx context.Context, c *store.Citizen, name string) (*Registration, error) {
	name, ok := CleanName(name)
	if !ok {
		return nil, ErrName
	}
	existing, err := a.o.Store.ListWebAuthnCredentials(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	u := a.userOf(c.ID, nil)
	u.name = audit.MaskNumber(c.Number)
	u.display = c.Name
	if u.display == "" {
		u.display = u.name
	}
	excl := make([]protocol.CredentialDescriptor, 0, len(existing))
	for _, e := range existing {
		cred := libCredential(e)
		excl = append(excl, cred.Descriptor())
	}
	creation, sd, err := a.wa.BeginRegistration(u, gowebauthn.WithExclusions(excl))
	if err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	opts, err := json.Marshal(creation)
	if err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	id := session.RandomToken(24)
	rec := pendingRegistration{CitizenID: c.ID, Name: name, Session: *sd, Expires: a.o.Now().Add(a.o.Timeout)}
	if err := kindRegistration.PutNew(ctx, a.o.Sessions, id, rec, a.o.Timeout); err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	return &Registration{ID: id, Name: name, Options: opts}, nil
}

// attested are the attestation types that vouch for the model (not
// "none", not self attestation).
var attested = []string{"basic_full", "attca", "anonca"}

// FinishRegistration verifies the browser's response to the registration
// ceremonyID of the citizen and stores the credential. The ceremony is
// used up whatever the outcome. Errors: ErrNoChallenge, ErrExpired,
// ErrInvalid, ErrUserNotVerified, ErrNotAllowed, ErrExists (wrapped, with
// the cause), or a server failure.
func (a *Authenticator) FinishRegistration(ctx context.Context, citizenID, ceremonyID string, response []byte) (*store.WebAuthnCredential, error) {
	var rec pendingRegistration
	if err := take(ctx, a, kindRegistration, ceremonyID, &rec); err != nil {
		return nil, err
	}
	if rec.CitizenID != citizenID {
		return nil, fmt.Errorf("%w: begun for another citizen", ErrNoChallenge)
	}
	now := a.o.Now()
	if now.After(rec.Expires) {
		return nil, ErrExpired
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, invalid(err)
	}
	cred, err := a.wa.CreateCredential(a.userOf(citizenID, nil), rec.Session, parsed)
	if err != nil {
		return nil, invalid(err)
	}
	flags := parsed.Response.AttestationObject.AuthData.Flags
	if !flags.HasUserVerified() { // the library checks it too, as UV was required
		return nil, ErrUserNotVerified
	}
	aaguid := formatUUID(cred.Authenticator.AAGUID)
	if len(a.allowed) > 0 && (!slices.Contains(attested, cred.AttestationType) || !slices.Contains(a.allowed, aaguid)) {
		return nil, fmt.Errorf("%w: model %s, attestation %q", ErrNotAllowed, aaguid, cred.AttestationType)
	}
	sc := &store.WebAuthnCredential{
		ID:                cred.ID,
		CitizenID:         citizenID,
		PublicKey:         cred.PublicKey,
		SignCount:         cred.Authenticator.SignCount,
		AAGUID:            cred.Authenticator.AAGUID,
		AttestationFormat: cred.AttestationFormat,
		BackupEligible:    flags.HasBackupEligible(),
		BackupState:       flags.HasBackupState(),
		UserVerified:      true,
		Name:              rec.Name,
		CreatedAt:         now,
	}
	for _, t := range cred.Transport {
		sc.Transports = append(sc.Transports, string(t))
	}
	if err := a.o.Store.CreateWebAuthnCredential(ctx, sc); errors.Is(err, store.ErrConflict) {
		return nil, ErrExists
	} else if err != nil {
		return nil, fmt.Errorf("store webauthn credential: %w", err)
	}
	return sc, nil
}

// Credentials returns the citizen's credentials, oldest first.
func (a *Authenticator) Credentials(ctx context.Context, citizenID string) ([]store.WebAuthnCredential, error) {
	return a.o.Store.ListWebAuthnCredentials(ctx, citizenID)
}

// Remove deletes the citizen's credential; an error wrapping
// store.ErrNotFound when the citizen has no such credential.
func (a *Authenticator) Remove(ctx context.Context, citizenID string, id []byte) error {
	return a.o.Store.DeleteWebAuthnCredential(ctx, citizenID, id)
}

// Assertion is a pending login: show Options to the browser
// (navigator.credentials.get, modal or conditional).
type Assertion struct {
	Options []byte // JSON {"publicKey": …}
}

type pendingLogin struct {
	CitizenID string                 `json:"citizen_id,omitempty"`
	Session   gowebauthn.SessionData `json:"session"`
	Expires   time.Time              `json:"expires"`
}

// usable are the credentials that may log in.
func usable(creds []store.WebAuthnCredential) []store.WebAuthnCredential {
	return slices.DeleteFunc(creds, func(c store.WebAuthnCredential) bool { return c.Flagged })
}

// BeginLogin issues a challenge bound to binding (the login transaction),
// replacing any earlier one of that binding. With a citizen who has
// credentials they are listed; otherwise any discoverable credential of
// this relying party may answer (passwordless, passkey autofill).
func (a *Authenticator) BeginLogin(ctx context.Context, binding, citizenID string) (*Assertion, error) {
	if binding == "" {
		return nil, errors.New("begin webauthn login: binding is required")
	}
	var (
		assertion *protocol.CredentialAssertion
		sd        *gowebauthn.SessionData
		err       error
	)
	// Whether the citizen was verified is read from the assertion, so the
	// browser may let an authenticator that cannot verify act as a second
	// factor.
	uv := gowebauthn.WithUserVerification(protocol.VerificationPreferred)
	if citizenID != "" {
		creds, lerr := a.o.Store.ListWebAuthnCredentials(ctx, citizenID)
		if lerr != nil {
			return nil, fmt.Errorf("begin webauthn login: %w", lerr)
		}
		if creds = usable(creds); len(creds) > 0 {
			assertion, sd, err = a.wa.BeginLogin(a.userOf(citizenID, creds), uv)
		}
	}
	if assertion == nil && err == nil {
		assertion, sd, err = a.wa.BeginDiscoverableLogin(uv)
	}
	if err != nil {
		return nil, fmt.Errorf("begin webauthn login: %w", err)
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return nil, fmt.Errorf("begin webauthn login: %w", err)
	}
	rec := pendingLogin{CitizenID: citizenID, Session: *sd, Expires: a.o.Now().Add(a.o.Timeout)}
	if err := kindLogin.Put(ctx, a.o.Sessions, binding, rec, a.o.Timeout); err != nil {
		return nil, fmt.Errorf("begin webauthn login: %w", err)
	}
	return &Assertion{Options: opts}, nil
}

// Login is a verified assertion: the citizen, the credential as stored
// after this login, and THIS assertion's flags.
type Login struct {
	CitizenID      string
	Credential     store.WebAuthnCredential
	UserVerified   bool // UV of this assertion
	BackupEligible bool // BE of this assertion (equal to the stored one, or the login fails)
	BackupState    bool // BS of this assertion
}

// FinishLogin verifies the browser's assertion for the challenge of
// binding. citizenID is the citizen already identified in the login, or
// "" when the credential identifies them. The challenge is used up
// whatever the outcome. On success the signature counter, backup state and
// last use are stored. Errors: ErrNoChallenge, ErrExpired, ErrInvalid,
// ErrUnknownCredential, ErrCloned (wrapped, with the cause), or a server
// failure.
func (a *Authenticator) FinishLogin(ctx context.Context, binding, citizenID string, response []byte) (*Login, error) {
	var rec pendingLogin
	if err := take(ctx, a, kindLogin, binding, &rec); err != nil {
		return nil, err
	}
	if rec.CitizenID != "" && rec.CitizenID != citizenID {
		return nil, fmt.Errorf("%w: issued for another citizen", ErrNoChallenge)
	}
	now := a.o.Now()
	if now.After(rec.Expires) {
		return nil, ErrExpired
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, invalid(err)
	}
	cred, err := a.o.Store.WebAuthnCredentialByID(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownCredential
	} else if err != nil {
		return nil, fmt.Errorf("webauthn login: %w", err)
	}
	if citizenID != "" && cred.CitizenID != citizenID {
		return nil, fmt.Errorf("%w: another citizen's", ErrUnknownCredential)
	}
	if cred.Flagged {
		return nil, fmt.Errorf("%w: flagged before", ErrCloned)
	}
	// The library finds the credential among the user's. It also checks
	// that the user owns every credential the challenge allowed, when it
	// named some (a citizen known before the passkey): only then does it
	// need them all.
	creds := []store.WebAuthnCredential{*cred}
	if len(rec.Session.AllowedCredentialIDs) > 0 {
		if creds, err = a.o.Store.ListWebAuthnCredentials(ctx, cred.CitizenID); err != nil {
			return nil, fmt.Errorf("webauthn login: %w", err)
		}
	}
	u := a.userOf(cred.CitizenID, creds)
	if len(rec.Session.UserID) == 0 {
		_, _, err = a.wa.ValidatePasskeyLogin(func(_, userHandle []byte) (gowebauthn.User, error) {
			if !hmac.Equal(userHandle, u.id) {
				return nil, errors.New("user handle is not the credential owner's")
			}
			return u, nil
		}, rec.Session, parsed)
	} else {
		_, err = a.wa.ValidateLogin(u, rec.Session, parsed)
	}
	if err != nil {
		return nil, invalid(err)
	}

	// This assertion's flags and counter, never the credential record's.
	flags := parsed.Response.AuthenticatorData.Flags
	count := parsed.Response.AuthenticatorData.Counter
	use, stored, err := a.o.Store.RecordWebAuthnUse(ctx, cred.ID, count, flags.HasBackupState(), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("%w: removed meanwhile", ErrUnknownCredential)
	case err != nil:
		return nil, fmt.Errorf("webauthn login: store counter: %w", err)
	case use == store.WebAuthnFlagged:
		return nil, fmt.Errorf("%w: flagged meanwhile", ErrCloned)
	case use == store.WebAuthnRegressed:
		a.o.Audit.Record(ctx, audit.Event{
			Actor: "system", Action: "webauthn.flag", Target: "citizen:" + cred.CitizenID, Outcome: "flagged",
			ClientIP: server.ClientIP(ctx),
			Details: map[string]string{
				"credential": Fingerprint(cred.ID), "reason": "signature counter did not increase",
				"stored_count": strconv.FormatUint(uint64(stored), 10), "presented_count": strconv.FormatUint(uint64(count), 10),
			},
		})
		return nil, fmt.Errorf("%w: signature counter %d after %d", ErrCloned, count, stored)
	}
	cred.SignCount, cred.BackupState, cred.LastUsedAt = count, flags.HasBackupState(), now
	return &Login{
		CitizenID:      cred.CitizenID,
		Credential:     *cred,
		UserVerified:   flags.HasUserVerified(),
		BackupEligible: flags.HasBackupEligible(),
		BackupState:    flags.HasBackupState(),
	}, nil
}

// take loads and deletes a pending ceremony (single use).
func take[T any](ctx context.Context, a *Authenticator, kind session.Bucket[T], id string, v *T) error {
	if id == "" || len(id) > 128 {
		return ErrNoChallenge
	}
	err := kind.Take(ctx, a.o.Sessions, id, v)
	if errors.Is(err, session.ErrNotFound) {
		return ErrNoChallenge
	} else if err != nil {
		return fmt.Errorf("webauthn: load challenge: %w", err)
	}
	return nil
}

// invalid wraps a verification failure with what the library says about it.
func invalid(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		detail := pe.Details
		if pe.DevInfo != "" {
			detail += " (" + pe.DevInfo + ")"
		}
		return fmt.Errorf("%w: %s", ErrInvalid, detail)
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

// Fingerprint names a credential in audit entries and logs without its ID:
// the first 8 bytes of SHA-256 of the ID, hex.
func Fingerprint(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:8])
}

// formatUUID writes a 16-byte AAGUID in lowercase 8-4-4-4-12 form.
func formatUUID(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
