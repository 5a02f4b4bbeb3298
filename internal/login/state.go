package login

import (
	"errors"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
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
	LoginHint    string
	UILocales    []string
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
	// Chosen is a method the citizen picked among the alternatives.
	Chosen State `json:"chosen,omitempty"`
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
