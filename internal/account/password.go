package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

const passwordPath = "/account/security/password"

// passwordPage is the view model of account_password.html.
type passwordPage struct {
	Errors formErrors
}

// passwordThrottle bounds guesses of the current password from a session
// that is not the citizen's (a borrowed, unlocked phone).
var passwordThrottle = session.ThrottlePolicy{Free: 5, Window: 15 * time.Minute, BaseDelay: time.Minute, MaxDelay: 15 * time.Minute}

// passwordForm asks for the current password and a new one. The fresh
// login comes first, so nothing the citizen types is lost to it.
func (a *Account) passwordForm(w http.ResponseWriter, r *http.Request) {
	if a.requireAt(w, r, assurance.Low, passwordPath) == nil {
		return
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_password", server.Locale(r, nil), "acct_password_title", passwordPage{})
}

// changePassword checks the current password and the new one, stores the
// new one, ends the citizen's other sessions and tells their contacts.
func (a *Account) changePassword(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, passwordPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	lang := server.Locale(r, nil)
	c, err := a.o.Store.CitizenByID(ctx, sess.CitizenID)
	if err != nil {
		a.unavailable(w, r, "load citizen", err)
		return
	}
	current := r.PostFormValue("current")
	next, perrs := citizens.ParseNewPassword(postForm(r), a.o.Policy, personalOf(c))
	errs := a.fieldErrors(lang, perrs)
	key := session.ThrottleKey("pwchange", c.ID)
	wait, err := a.o.Sessions.Reserve(ctx, key, passwordThrottle)
	if err != nil {
		a.unavailable(w, r, "throttle", err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		errs = append(formErrors{{"current", a.waitText(lang, wait)}}, errs...)
		a.o.Renderer.Render(w, r, http.StatusTooManyRequests, "account_password", lang, "acct_password_title", passwordPage{Errors: errs})
		return
	}
	hash, err := a.o.Store.PasswordHash(ctx, c.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.o.Sessions.Release(ctx, key)
		a.unavailable(w, r, "load password", err)
		return
	}
	if ok, _, verr := a.o.Hasher.Verify(current, hash); err != nil || verr != nil || !ok {
		a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + c.ID, Action: "password.change", Target: "citizen:" + c.ID,
			Outcome: "failure", ClientIP: server.ClientIP(ctx)})
		errs = append(formErrors{{"current", a.o.Renderer.T(lang, "acct_err_current_password")}}, errs...)
	}
	if len(errs) > 0 {
		a.o.Renderer.Render(w, r, http.StatusUnprocessableEntity, "account_password", lang, "acct_password_title", passwordPage{Errors: errs})
		return
	}
	a.o.Sessions.ResetFailures(ctx, key)
	newHash, err := a.o.Hasher.Hash(next)
	if err == nil {
		err = a.o.Store.SetPassword(ctx, c.ID, newHash)
	}
	if err != nil {
		a.unavailable(w, r, "set password", err)
		return
	}
	a.record(ctx, sess, "password.change")
	if _, err := a.o.Login.EndAll(ctx, c.ID, sess.SID, login.How{Actor: "citizen:" + c.ID, Reason: "password changed"}); err != nil {
		a.o.Log.ErrorContext(ctx, "end other sessions", "err", err)
	}
	http.Redirect(w, r, securityPath+"?done=password", http.StatusSeeOther)
}

// personalOf is what a new password of c must not be made of.
func personalOf(c *store.Citizen) password.Personal {
	return password.Personal{Number: c.Number, Name: c.Name, Birthdate: c.Birthdate}
}
