package login

import (
	"errors"
	"time"

	"github.com/citizenid/citizenid/internal/session"
)

// State is where a login transaction stands. Every step returns to the
// dispatcher in Engine.step, which renders the page of the current state.
type State string

const (
	// StatePassword asks for citizen number and password.
	StatePassword State = "password"
	// StateDone: the transaction completed; it is deleted right after.
	StateDone State = "done"
)

// Errors a protocol receives through Fail.
var (
	// ErrLoginRequired: prompt=none and there is no usable session.
	ErrLoginRequired = errors.New("login required")
	// ErrAccessDenied: the citizen's account cannot be used.
	ErrAccessDenied = errors.New("access denied")
)

// Request is what a protocol asks of the engine.
type Request struct {
	Protocol   string // registered protocol name, e.g. "oidc"
	RequestID  string // the protocol's own request identifier
	ClientID   string
	ClientName string
	// MaxAge, when set, is the longest time since the citizen last
	// authenticated that the request accepts (prompt=login means 0).
	MaxAge    *time.Duration
	NoPrompt  bool // prompt=none
	LoginHint string
	UILocales []string
}

// Txn is a login transaction, kept in Redis for the login timeout.
type Txn struct {
	ID        string              `json:"id"`
	State     State               `json:"state"`
	Request   Request             `json:"request"`
	CitizenID string              `json:"citizen_id,omitempty"`
	Events    []session.AuthEvent `json:"events,omitempty"`
	CreatedAt time.Time           `json:"created_at"`
}

const txnKind = "lt"
