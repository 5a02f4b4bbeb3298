package login

import (
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// State is where a login transaction stands: the name of the method whose
// page the citizen sees ("password", "totp", "webauthn", …), or
// StateRecovered. Every step returns to one dispatcher (flow.go), which
// asks decide (decide.go) for the next state.
type State string

const (
	// StatePassword is the password method's step (authn/password).
	StatePassword State = "password"
	// StateTOTP is the authenticator app's step (authn/totp).
	StateTOTP State = "totp"
	// StateRecovery is the recovery-code step (authn/totp).
	StateRecovery State = "recovery"
	// StateRecovered tells the citizen a recovery method was used and what
	// to set up again, then continues.
	StateRecovered State = "recovered"
	// StateConsent shows the portal and the personal data it asks for
	// (or, for a portal with a legal basis, a notice naming the basis)
	// once the level is reached (consent.go).
	StateConsent State = "consent"
	// StateUnmet explains that the citizen has nothing that reaches the
	// level the request needs, and how to get it; leaving it answers the
	// protocol with ErrUnmet.
	StateUnmet State = "unmet"
)

// Errors a protocol receives through Fail.
var (
	// ErrLoginRequired: prompt=none and there is no usable session.
	ErrLoginRequired = errors.New("login required")
	// ErrAccessDenied: the citizen's account cannot be used.
	ErrAccessDenied = errors.New("access denied")
	// ErrInteractionRequired: prompt=none and the session's level is too low.
	ErrInteractionRequired = errors.New("interaction required")
	// ErrUnmet: the citizen has no authenticator that reaches the level.
	ErrUnmet = errors.New("unmet authentication requirements")
	// ErrConsentRequired: prompt=none and the citizen has not approved
	// what the request releases.
	ErrConsentRequired = errors.New("consent required")
	// ErrConsentDenied: the citizen declined to release the data. It
	// is an ErrAccessDenied for protocols that know no finer answer.
	ErrConsentDenied = fmt.Errorf("consent denied: %w", ErrAccessDenied)
	// ErrCancelled: the citizen chose to go back to the service without
	// logging in. It is an ErrAccessDenied for protocols that know no
	// finer answer.
	ErrCancelled = fmt.Errorf("cancelled by the citizen: %w", ErrAccessDenied)
)

// Request is what a protocol asks of the engine.
type Request struct {
	Protocol   string // registered protocol name, e.g. "oidc"
	RequestID  string // the protocol's own request identifier
	ClientID   string
	ClientName string
	// MinLevel is the authentication level the request needs.
	MinLevel assurance.Level
	// MaxAge, when set, is the longest time since an authentication that
	// the request accepts (prompt=login means 0). Authentications after
	// Since (when the portal made the request) always count, so a citizen
	// who has just logged in for this request is not asked again.
	MaxAge *time.Duration
	Since  time.Time
	// ClientMaxAge is the client's configured maximum authentication age.
	ClientMaxAge time.Duration
	NoPrompt     bool // prompt=none
	// Purpose, when set, is the catalogue key of why the citizen is asked
	// to log in (an account action that needs a fresher or higher login);
	// portals' requests say it with their name and level instead.
	Purpose   string `json:",omitempty"`
	LoginHint string
	UILocales []string

	// What the request releases, for the consent step (consent.go).
	// Portal is the protocol-qualified key consents are kept under
	// ("oidc:<client id>", "saml:<entity id>"); ClientName is shown as
	// the portal's name. No Attributes: nothing is released and the
	// step never shows.
	Portal     string              `json:",omitempty"`
	PortalLogo string              `json:",omitempty"` // shown only if a data: URI
	Attributes []release.Attribute `json:",omitempty"`
	// LegalBasis, when set, makes the step a notice naming it.
	LegalBasis string `json:",omitempty"`
	// ForceConsent asks even when a stored consent covers the request
	// (OIDC prompt=consent).
	ForceConsent bool `json:",omitempty"`
}

// Txn is a login transaction, kept in Redis for the login timeout.
type Txn struct {
	ID        string              `json:"id"`
	State     State               `json:"state"`
	Request   Request             `json:"request"`
	CitizenID string              `json:"citizen_id,omitempty"`
	Number    string              `json:"number,omitempty"` // prefilled on the password page
	Events    []session.AuthEvent `json:"events,omitempty"`
	// FreshLogin is set once a first factor was given in this transaction:
	// a citizen with a second factor is then asked for it (DESIGN.md).
	FreshLogin bool `json:"fresh_login,omitempty"`
	// Consented is set once the citizen approved the release in this
	// transaction (the consent is stored first).
	Consented bool `json:"consented,omitempty"`
	// Chosen is a method the citizen picked among the alternatives.
	Chosen State `json:"chosen,omitempty"`
	// Proven are the methods the citizen used with success in this
	// transaction (what UseProves is about).
	Proven []State `json:"proven,omitempty"`
	// Browser binds the transaction to the browser that started it
	// (browser.go): its pages answer no other.
	Browser   string    `json:"browser"`
	CreatedAt time.Time `json:"created_at"`
}

// Completion is what a protocol's Complete receives: what the engine
// already loaded for the request, so the protocol need not load it again.
type Completion struct {
	Session *session.Session
	Citizen *store.Citizen
	Result  assurance.Result // what the session proves for this request
}
