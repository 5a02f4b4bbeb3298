package webauthn

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Name is the login step's name: its page is templates/login_webauthn.html,
// and the password page offers it as use=webauthn.
const Name = "webauthn"

// MaxResponseLen bounds the credential JSON a login form may carry.
const MaxResponseLen = 64 << 10

// Event is the authentication event of a verified login, after DESIGN.md:
//
//   - user verified, device-bound (backup-eligible flag off): level 3,
//     amr hwk user mfa (possession of the device and the citizen's
//     fingerprint, face or PIN);
//   - user verified, synced (backup eligible): level 2, amr swk user;
//   - not verified: a second factor of level 2 (it counts only with a
//     fresh password), amr hwk (swk when synced).
func (l *Login) Event() session.AuthEvent {
	kind := assurance.AMRHardware
	if l.BackupEligible {
		kind = assurance.AMRSoftware
	}
	switch {
	case !l.UserVerified:
		return session.AuthEvent{Method: Name, AMR: []string{kind}, Level: int(assurance.Substantial), SecondFactor: true}
	case l.BackupEligible:
		return session.AuthEvent{Method: Name, AMR: []string{kind, assurance.AMRUser}, Level: int(assurance.Substantial)}
	default:
		return session.AuthEvent{Method: Name, AMR: []string{kind, assurance.AMRUser, assurance.AMRMFA}, Level: int(assurance.High)}
	}
}

// Level is the highest level the citizen's usable credentials can reach
// alone: High with a device-bound credential, Substantial with synced ones
// only, 0 without any.
func (a *Authenticator) Level(ctx context.Context, citizenID string) (assurance.Level, error) {
	creds, err := a.o.Store.ListWebAuthnCredentials(ctx, citizenID)
	if err != nil {
		return 0, err
	}
	level := assurance.Level(0)
	for _, c := range usable(creds) {
		if !c.BackupEligible {
			return assurance.High, nil
		}
		level = assurance.Substantial
	}
	return level, nil
}

// Method returns the authenticator as a login step.
func (a *Authenticator) Method() login.Method { return method{a} }

// StepData is what the step's page (and the password page, for the
// passkey button and autofill) receives as the method's data.
type StepData struct {
	// Options is the JSON for navigator.credentials.get; JSON marshalling
	// escapes <, > and &, so it is safe inside a script element.
	Options template.JS
	// BackToPassword: the citizen chose passkeys on the password page and
	// may go back to it.
	BackToPassword bool
}

type method struct{ a *Authenticator }

var (
	_ login.InPlace   = method{}
	_ login.Discarder = method{}
)

// InPlace: a passkey answers on the password page too (autofill).
func (m method) InPlace() bool { return true }

func (m method) Name() string { return Name }

// Offer: before anyone is identified, a passkey can identify the citizen;
// afterwards it is available when the citizen has a usable credential.
func (m method) Offer(ctx context.Context, citizenID string) (login.Offer, error) {
	if citizenID == "" {
		return login.Offer{Available: true, Identifies: true, Level: assurance.High}, nil
	}
	level, err := m.a.Level(ctx, citizenID)
	if err != nil {
		return login.Offer{}, fmt.Errorf("webauthn offer: %w", err)
	}
	return login.Offer{Available: level > 0, Level: level}, nil
}

func (m method) Prepare(ctx context.Context, _ *http.Request, txn *login.Txn) (any, error) {
	as, err := m.a.BeginLogin(ctx, txn.ID, txn.CitizenID)
	if err != nil {
		return nil, err
	}
	return &StepData{Options: template.JS(as.Options), BackToPassword: txn.Chosen == Name}, nil
}

// Discards names the login's challenge: a login finished with the
// password leaves the one its page offered for autofill.
func (m method) Discards(txnID string) []session.Ref {
	return []session.Ref{kindLogin.Ref(txnID)}
}

func (m method) Verify(ctx context.Context, r *http.Request, txn *login.Txn) (string, session.AuthEvent, error) {
	fail := func(msg, reason string, throttle bool) (string, session.AuthEvent, error) {
		return "", session.AuthEvent{}, &login.StepError{Message: msg, Reason: reason, Throttle: throttle}
	}
	resp := r.PostForm["credential"]
	if len(resp) != 1 || resp[0] == "" || len(resp[0]) > MaxResponseLen {
		return fail("err_form", "malformed form", false)
	}
	l, err := m.a.FinishLogin(ctx, txn.ID, txn.CitizenID, []byte(resp[0]))
	switch {
	case errors.Is(err, ErrNoChallenge), errors.Is(err, ErrExpired):
		return fail("err_webauthn_expired", err.Error(), false)
	case errors.Is(err, ErrCloned):
		return fail("err_webauthn_cloned", err.Error(), true)
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrUnknownCredential):
		return fail("err_webauthn_failed", err.Error(), true)
	case err != nil:
		return "", session.AuthEvent{}, err
	}
	ev := l.Event()
	want := txn.Request.MinLevel
	switch {
	case !l.UserVerified && txn.CitizenID == "":
		// Something you have, alone: never a login by itself.
		return fail("err_webauthn_uv", "user not verified in a passwordless login", false)
	case !l.UserVerified && want > assurance.Substantial:
		return fail("err_webauthn_uv", fmt.Sprintf("user not verified; level %d needed", want), false)
	case l.UserVerified && assurance.Level(ev.Level) < want:
		return fail("err_webauthn_synced", fmt.Sprintf("synced credential reaches level %d; level %d needed", ev.Level, want), false)
	}
	return l.CitizenID, ev, nil
}

// Synced reports whether a stored credential is a synced passkey (backup
// eligible) rather than bound to one device.
func Synced(c store.WebAuthnCredential) bool { return c.BackupEligible }
