package account

import (
	"errors"
	"net/http"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Password recovery (/recover): the citizen number, a code to a verified
// contact, the second factor when the citizen has one, a new password.
// A stolen mailbox alone does not take an account: a citizen with an
// authenticator app must also give a code from it or a recovery code, and
// one whose only other ways in are passkeys or certificates is told to log
// in with one of those (or to see an operator) instead. A recovery ends
// every session and refresh token of the citizen and logs nobody in: the
// next login asks what it always asks.
//
// The pages never say whether the number has an account (codes.go).

const recoverPath = "/recover"

// recovery is a recovery's progress after its code.
type recovery struct {
	// Step: "code" (waiting for the code), "second" (the authenticator
	// app's code or a recovery code), "password" (the new password),
	// "blocked" (only a passkey or a certificate can prove it is them).
	Step string `json:"step"`
	// RecoveryCodeUsed: the second step was passed with a recovery code.
	RecoveryCodeUsed bool `json:"recovery_code_used,omitempty"`
}

type recoverPage struct {
	Number string
	Errors formErrors
	Login  string
}

type recoverStepPage struct {
	Action string
	Step   string
	Errors formErrors
}

func (a *Account) recoverForm(w http.ResponseWriter, r *http.Request) {
	a.o.Renderer.Render(w, r, http.StatusOK, "recover", server.Locale(r, nil), "recover_title",
		recoverPage{Login: loginParam(r), Number: r.URL.Query().Get("number")})
}

func (a *Account) startRecovery(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	number, ferrs := citizens.ParseRecoveryStart(postForm(r))
	if len(ferrs) > 0 {
		a.o.Renderer.Render(w, r, http.StatusUnprocessableEntity, "recover", lang, "recover_title",
			recoverPage{Login: loginParam(r), Number: r.PostFormValue("number"), Errors: a.fieldErrors(lang, ferrs)})
		return
	}
	if !a.selfServiceAllowed(w, r, number) {
		return
	}
	c, err := a.o.Store.CitizenByNumber(ctx, number)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.unavailable(w, r, "citizen by number", err)
		return
	}
	v := verification{ID: session.RandomToken(16), Purpose: "recover", Browser: a.o.Login.Browser(w, r), Lang: lang,
		Recovery: &recovery{Step: "code"}, Login: loginParam(r)}
	if c != nil && !c.Disabled {
		switch {
		case c.EmailVerified && c.Email != "":
			v.To, v.Send = notify.Contact{Kind: notify.Email, Address: c.Email}, true
		case c.PhoneVerified && c.Phone != "":
			v.To, v.Send = notify.Contact{Kind: notify.SMS, Address: c.Phone}, true
		}
		v.CitizenID = c.ID
	}
	if !a.startVerification(w, r, &v, notify.CodeRecovery) {
		return
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "anonymous", Action: "password.recover_start", Target: citizenRef(v.CitizenID),
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"code_sent": boolString(v.Send)}})
	http.Redirect(w, r, verifyPath(v), http.StatusSeeOther)
}

func (a *Account) recoverStepPath(v *verification) string { return recoverPath + "/" + v.ID }

// recoveryVerified moves a recovery whose code was right to its next step.
func (a *Account) recoveryVerified(w http.ResponseWriter, r *http.Request, v *verification) {
	ctx := r.Context()
	step := "password"
	totpOn, err := a.o.TOTP.Enrolled(ctx, v.CitizenID)
	if err != nil {
		a.unavailable(w, r, "totp enrolled", err)
		return
	}
	if totpOn {
		step = "second"
	} else if strong, err := a.hasStrongAuthenticator(r, v.CitizenID); err != nil {
		a.unavailable(w, r, "authenticators", err)
		return
	} else if strong {
		step = "blocked"
	}
	if err := a.setRecoveryStep(r, v, step, false); err != nil {
		a.unavailable(w, r, "recovery step", err)
		return
	}
	http.Redirect(w, r, a.recoverStepPath(v), http.StatusSeeOther)
}

func (a *Account) setRecoveryStep(r *http.Request, v *verification, step string, usedCode bool) error {
	return verifications.Update(r.Context(), a.o.Sessions, v.ID, v, func() error {
		v.Recovery.Step = step
		v.Recovery.RecoveryCodeUsed = v.Recovery.RecoveryCodeUsed || usedCode
		return nil
	})
}

// hasStrongAuthenticator: a passkey or a certificate the citizen can log in with.
func (a *Account) hasStrongAuthenticator(r *http.Request, citizenID string) (bool, error) {
	if a.o.WebAuthn != nil {
		creds, err := a.o.WebAuthn.Credentials(r.Context(), citizenID)
		if err != nil || len(creds) > 0 {
			return len(creds) > 0, err
		}
	}
	if a.o.Certificates != nil {
		b, err := a.o.Certificates.Bindings(r.Context(), citizenID)
		return len(b) > 0, err
	}
	return false, nil
}

func (a *Account) recoveryStep(w http.ResponseWriter, r *http.Request) {
	v := a.loadVerification(w, r, "recover")
	if v == nil {
		return
	}
	if v.Recovery.Step == "code" {
		http.Redirect(w, r, verifyPath(*v), http.StatusSeeOther)
		return
	}
	a.renderRecoveryStep(w, r, http.StatusOK, v, nil)
}

func (a *Account) renderRecoveryStep(w http.ResponseWriter, r *http.Request, status int, v *verification, errs formErrors) {
	a.o.Renderer.Render(w, r, status, "recover_step", server.Locale(r, nil), "recover_title",
		recoverStepPage{Action: a.recoverStepPath(v), Step: v.Recovery.Step, Errors: errs})
}

// submitRecoveryStep takes the second factor, or the new password.
func (a *Account) submitRecoveryStep(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	v := a.loadVerification(w, r, "recover")
	if v == nil {
		return
	}
	switch v.Recovery.Step {
	case "second":
		a.recoverySecondFactor(w, r, v)
		return
	case "password":
	default:
		http.Redirect(w, r, a.recoverStepPath(v), http.StatusSeeOther)
		return
	}
	c, err := a.o.Store.CitizenByID(ctx, v.CitizenID)
	if err != nil {
		a.unavailable(w, r, "load citizen", err)
		return
	}
	next, ferrs := citizens.ParseNewPassword(postForm(r), a.o.Policy, personalOf(c))
	if len(ferrs) > 0 {
		a.renderRecoveryStep(w, r, http.StatusUnprocessableEntity, v, a.fieldErrors(lang, ferrs))
		return
	}
	hash, err := a.o.Hasher.Hash(next)
	if err != nil {
		a.unavailable(w, r, "hash password", err)
		return
	}
	if !a.take(w, r, v) {
		return
	}
	if err := a.o.Store.SetPassword(ctx, c.ID, hash); err != nil {
		a.unavailable(w, r, "set password", err)
		return
	}
	// Whoever was logged in is logged out, and every refresh token ends,
	// offline ones too: the old password may be what was stolen.
	if err := a.o.Store.RevokeRefreshTokensByCitizen(ctx, c.ID, a.now()); err != nil {
		a.o.Log.ErrorContext(ctx, "revoke refresh tokens", "err", err)
	}
	if _, err := a.o.Login.EndAll(ctx, c.ID, "", login.How{Actor: "citizen:" + c.ID, Reason: "password reset"}); err != nil {
		a.o.Log.ErrorContext(ctx, "end sessions", "err", err)
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + c.ID, Action: "password.reset", Target: "citizen:" + c.ID,
		Outcome: "success", ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"recovery_code_used": boolString(v.Recovery.RecoveryCodeUsed), "contact": v.To.Kind}})
	a.o.Renderer.Render(w, r, http.StatusOK, "recover_done", lang, "recover_done_title", doneView{Name: c.Name, Login: v.Login})
}

// recoverySecondFactor checks the authenticator app's code or a recovery
// code, under the same per-citizen throttle as at login.
func (a *Account) recoverySecondFactor(w http.ResponseWriter, r *http.Request, v *verification) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	key := session.ThrottleKey("otp", v.CitizenID)
	wait, err := a.o.Sessions.Reserve(ctx, key, a.o.SecondFactorThrottle)
	if err != nil {
		a.unavailable(w, r, "throttle", err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		a.renderRecoveryStep(w, r, http.StatusTooManyRequests, v, formErrors{{"second", a.waitText(lang, wait)}})
		return
	}
	code := r.PostFormValue("second")
	usedRecovery := false
	err = a.o.TOTP.Verify(ctx, v.CitizenID, code)
	if wrongCode(err) {
		// Not the app's code: perhaps one of the recovery codes.
		if err = a.o.TOTP.UseRecoveryCode(ctx, v.CitizenID, code); err == nil {
			usedRecovery = true
		}
	}
	if err != nil && !wrongCode(err) {
		a.o.Sessions.Release(ctx, key)
		a.unavailable(w, r, "check second factor", err)
		return
	}
	if err != nil {
		a.o.Audit.Record(ctx, audit.Event{Actor: "anonymous", Action: "password.recover_second_factor", Target: citizenRef(v.CitizenID),
			Outcome: "failure", ClientIP: server.ClientIP(ctx)})
		a.renderRecoveryStep(w, r, http.StatusUnprocessableEntity, v, formErrors{{"second", a.o.Renderer.T(lang, "err_code")}})
		return
	}
	a.o.Sessions.ResetFailures(ctx, key)
	if usedRecovery {
		// As at login: a recovery code turns the app off, to be set up again.
		if err := a.o.TOTP.Remove(ctx, v.CitizenID); err != nil && !errors.Is(err, totp.ErrNotEnrolled) {
			a.unavailable(w, r, "remove totp", err)
			return
		}
		a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + v.CitizenID, Action: "totp.remove", Target: "citizen:" + v.CitizenID,
			Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"reason": "recovery code used"}})
	}
	if err := a.setRecoveryStep(r, v, "password", usedRecovery); err != nil {
		a.unavailable(w, r, "recovery step", err)
		return
	}
	http.Redirect(w, r, a.recoverStepPath(v), http.StatusSeeOther)
}

// wrongCode: the citizen's code was wrong, as opposed to the server failing.
func wrongCode(err error) bool {
	return errors.Is(err, totp.ErrInvalidCode) || errors.Is(err, totp.ErrReplayed) || errors.Is(err, totp.ErrNotEnrolled)
}
