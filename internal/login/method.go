package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/session"
)

// Method is an authenticator the engine can ask for in a login step
// (TOTP, WebAuthn, certificate). Methods know nothing of protocols; the
// engine knows nothing of how a method checks what the citizen presents.
//
// The step's page is the template "login_<Name>.html"; it receives a
// StepPage whose Method field holds what Prepare returned, and posts its
// form to StepPage.Action with a hidden field step=<Name>.
type Method interface {
	// Name is the method's step name ("totp", "webauthn", ...): lowercase
	// letters only.
	Name() string
	// Offer says what the method can do for the citizen. citizenID is
	// empty before anyone is identified: a method that can identify the
	// citizen by itself (a passkey) says so with Identifies.
	Offer(ctx context.Context, citizenID string) (Offer, error)
	// Prepare returns the data the step's page needs (a WebAuthn challenge,
	// a nonce), bound to the transaction. It is called each time the page
	// is shown.
	Prepare(ctx context.Context, r *http.Request, txn *Txn) (any, error)
	// Verify checks what the citizen submitted for the transaction and
	// returns the citizen it authenticated (for a second factor, always
	// txn.CitizenID) and the event to record. A *StepError says what to
	// tell the citizen; other errors are failures of the server.
	Verify(ctx context.Context, r *http.Request, txn *Txn) (citizenID string, ev session.AuthEvent, err error)
}

// Offer is what a method can do for a citizen.
type Offer struct {
	Available    bool            // enrolled and usable
	Level        assurance.Level // the level one successful use reaches
	SecondFactor bool            // reaches Level only after a fresh first factor
	Identifies   bool            // can log a citizen in without a citizen number first
}

// StepError is a refusal to show the citizen: Message is a catalogue key,
// Reason goes to the audit log.
type StepError struct {
	Message string
	Reason  string
	// Throttle counts the refusal towards the per-citizen throttle.
	Throttle bool
}

func (e *StepError) Error() string { return e.Reason }

// totpMethod is the authenticator app as a Method.
type totpMethod struct{ a *totp.Authenticator }

func (m totpMethod) Name() string { return string(StateTOTP) }

func (m totpMethod) Offer(ctx context.Context, citizenID string) (Offer, error) {
	if citizenID == "" {
		return Offer{}, nil
	}
	ok, err := m.a.Enrolled(ctx, citizenID)
	return Offer{Available: ok, Level: assurance.Substantial, SecondFactor: true}, err
}

func (m totpMethod) Prepare(context.Context, *http.Request, *Txn) (any, error) { return nil, nil }

func (m totpMethod) Verify(ctx context.Context, r *http.Request, txn *Txn) (string, session.AuthEvent, error) {
	if len(r.PostForm["code"]) != 1 {
		return "", session.AuthEvent{}, &StepError{Message: "err_form", Reason: "malformed form"}
	}
	err := m.a.Verify(ctx, txn.CitizenID, r.PostForm.Get("code"))
	switch {
	case errors.Is(err, totp.ErrInvalidCode), errors.Is(err, totp.ErrReplayed), errors.Is(err, totp.ErrNotEnrolled):
		return "", session.AuthEvent{}, &StepError{Message: "err_code", Reason: err.Error(), Throttle: true}
	case err != nil:
		return "", session.AuthEvent{}, err
	}
	return txn.CitizenID, session.AuthEvent{Method: assurance.AMROTP, AMR: []string{assurance.AMROTP},
		Level: int(assurance.Substantial), SecondFactor: true}, nil
}
