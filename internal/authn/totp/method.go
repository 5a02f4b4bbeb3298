package totp

import (
	"context"
	"errors"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// Method returns the authenticator app as a login step: a second factor
// of level 2.
func (a *Authenticator) Method() login.Method { return appMethod{a} }

// RecoveryMethod returns recovery codes as a login step: a way back in
// when the app is lost. A code adds no level (the password's event alone
// carries level 1) and removes the app, which must be set up again; the
// removal is audited on log.
func (a *Authenticator) RecoveryMethod(log *audit.Logger) login.Method {
	return recoveryMethod{a: a, audit: log}
}

type appMethod struct{ a *Authenticator }

func (m appMethod) Name() string { return string(login.StateTOTP) }

func (m appMethod) Offer(ctx context.Context, citizenID string) (login.Offer, error) {
	o := login.Offer{Level: assurance.Substantial, SecondFactor: true}
	if citizenID == "" {
		return o, nil
	}
	ok, err := m.a.Enrolled(ctx, citizenID)
	o.Available = ok
	return o, err
}

func (m appMethod) Prepare(context.Context, *http.Request, *login.Txn) (any, error) { return nil, nil }

func (m appMethod) Verify(ctx context.Context, r *http.Request, txn *login.Txn) (string, session.AuthEvent, error) {
	if len(r.PostForm["code"]) != 1 {
		return "", session.AuthEvent{}, &login.StepError{Message: "err_form", Reason: "malformed form", Status: http.StatusBadRequest}
	}
	err := m.a.Verify(ctx, txn.CitizenID, r.PostForm.Get("code"))
	switch {
	case errors.Is(err, ErrInvalidCode), errors.Is(err, ErrReplayed), errors.Is(err, ErrNotEnrolled):
		return "", session.AuthEvent{}, &login.StepError{Message: "err_code", Reason: err.Error(), Throttle: true}
	case err != nil:
		return "", session.AuthEvent{}, err
	}
	return txn.CitizenID, session.AuthEvent{Method: assurance.AMROTP, AMR: []string{assurance.AMROTP},
		Level: int(assurance.Substantial), SecondFactor: true}, nil
}

type recoveryMethod struct {
	a     *Authenticator
	audit *audit.Logger
}

var _ login.Paged = recoveryMethod{}

func (m recoveryMethod) Name() string { return string(login.StateRecovery) }

func (m recoveryMethod) Page() (string, string) { return "login_recovery", "recovery_title" }

func (m recoveryMethod) Offer(ctx context.Context, citizenID string) (login.Offer, error) {
	o := login.Offer{Level: assurance.Low, SecondFactor: true, Recovery: true}
	if citizenID == "" {
		return o, nil
	}
	ok, err := m.a.Enrolled(ctx, citizenID)
	o.Available = ok
	return o, err
}

func (m recoveryMethod) Prepare(context.Context, *http.Request, *login.Txn) (any, error) {
	return nil, nil
}

func (m recoveryMethod) Verify(ctx context.Context, r *http.Request, txn *login.Txn) (string, session.AuthEvent, error) {
	if len(r.PostForm["code"]) != 1 {
		return "", session.AuthEvent{}, &login.StepError{Message: "err_form", Reason: "malformed form", Status: http.StatusBadRequest}
	}
	err := m.a.UseRecoveryCode(ctx, txn.CitizenID, r.PostForm.Get("code"))
	switch {
	case errors.Is(err, ErrInvalidCode), errors.Is(err, ErrNotEnrolled):
		return "", session.AuthEvent{}, &login.StepError{Message: "err_code", Reason: err.Error(), Throttle: true}
	case err != nil:
		return "", session.AuthEvent{}, err
	}
	if err := m.a.Remove(ctx, txn.CitizenID); err != nil {
		return "", session.AuthEvent{}, err
	}
	m.audit.Record(ctx, audit.Event{Actor: "citizen:" + txn.CitizenID, Action: "totp.remove", Target: "citizen:" + txn.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"reason": "recovery code used"}})
	return txn.CitizenID, session.AuthEvent{}, nil // no level: access restored at what the password proved
}
