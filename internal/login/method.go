package login

import (
	"context"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/session"
)

// Method is an authenticator the engine can ask for in a login step: the
// password, the authenticator app, recovery codes, passkeys, signature
// certificates. Methods know nothing of protocols; the engine knows
// nothing of how a method checks what the citizen presents, and imports
// none of them.
//
// The step's page is the template "login_<Name>.html" (see Paged); it
// receives a StepPage whose Method field holds what Prepare returned, and
// posts its form to StepPage.Action with a hidden field step=<Name>.
type Method interface {
	// Name is the method's step name ("totp", "webauthn", ...): lowercase
	// letters only.
	Name() string
	// Offer says what the method can do for the citizen. citizenID is
	// empty before anyone is identified: a method that can identify the
	// citizen by itself (the password, a passkey) says so with Identifies.
	Offer(ctx context.Context, citizenID string) (Offer, error)
	// Prepare returns the data the step's page needs (a WebAuthn challenge,
	// a nonce), bound to the transaction. It is called when the page is
	// shown.
	Prepare(ctx context.Context, r *http.Request, txn *Txn) (any, error)
	// Verify checks what the citizen submitted for the transaction and
	// returns the citizen it authenticated (for a second factor, always
	// txn.CitizenID) and the event to record (none when its Method is
	// empty). A *StepError says what to tell the citizen; other errors are
	// failures of the server, never the citizen's.
	Verify(ctx context.Context, r *http.Request, txn *Txn) (citizenID string, ev session.AuthEvent, err error)
}

// UseProves is a Method whose offer to a citizen who used it with success
// in the transaction is its offer to nobody (Offer with no citizen):
// using it proved it enrolled, and nothing else in its offer depends on
// who the citizen is. The engine then does not ask it again for the rest
// of the transaction: the password is looked up once per login, by the
// Verify that checks it.
type UseProves interface {
	Method
	UseProvesOffer()
}

// Offer is what a method can do for a citizen.
type Offer struct {
	Available    bool            // enrolled and usable
	Level        assurance.Level // the level one successful use reaches
	SecondFactor bool            // reaches Level only after a fresh first factor
	Identifies   bool            // can log a citizen in without a citizen number first
	// Recovery: a way back in when the usual way is lost; it adds no
	// level, the engine never picks it by itself, and after it the
	// citizen is told what to set up again (StateRecovered).
	Recovery bool
}

// firstFactor reports whether o is the first factor (the password): it
// identifies the citizen and reaches level 1 only.
func (o Offer) firstFactor() bool { return o.Identifies && !o.SecondFactor && o.Level == assurance.Low }

// StepError is a refusal to show the citizen: Message is a catalogue key,
// Reason goes to the audit log.
type StepError struct {
	Message string
	Reason  string
	// Throttle counts the refusal as a failed attempt; otherwise the
	// attempt is given back (a malformed form is not a guess).
	Throttle bool
	// Status is the HTTP status of the page; 0 means 401.
	Status int
	// CitizenID is the citizen the refused attempt was for, when known
	// (the audit event's target).
	CitizenID string
}

func (e *StepError) Error() string { return e.Reason }

// InPlace is an optional capability of a Method that identifies citizens:
// it can be answered right on the password page (passkey autofill). The
// engine then prepares its data for that page too (Alternative.Data) and
// accepts its step posted from there.
type InPlace interface {
	Method
	InPlace() bool
}

func inPlace(m Method) bool {
	ip, ok := m.(InPlace)
	return ok && ip.InPlace()
}

// Claimant is an optional capability of a Method whose form names the
// account it is for (the password page's citizen number). The engine
// counts its attempts per that account and client address, per address,
// and slows it per account (throttle.go), all before Verify runs.
type Claimant interface {
	Method
	// Claim reads the citizen number the submitted form names. A
	// *StepError refuses the form before anything is counted or checked.
	Claim(r *http.Request) (number string, err error)
}

// Paged is an optional capability of a Method whose page is not
// "login_<Name>.html": it names its template and the catalogue key of
// the page's title.
type Paged interface {
	Method
	Page() (template, title string)
}

// Discarder is an optional capability of a Method whose Prepare keeps
// state of its own for the transaction (a WebAuthn challenge, a nonce to
// sign): Discards names that state, and the engine deletes it in the
// round trip that ends the transaction, however it ended, so that it
// does not wait for its TTL. The TTL still bounds it if that fails.
type Discarder interface {
	Method
	Discards(txnID string) []session.Ref
}
