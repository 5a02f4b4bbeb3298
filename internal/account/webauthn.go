package account

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Passkeys on /account/security: register one (named by the citizen), list
// them, remove one. Registering needs a fresh level-2 login once the
// citizen has a second factor (level 1 for the first one); removing needs
// a fresh level 2, and the last passkey goes only after a warning.

// passkeyView is one credential in the list.
type passkeyView struct {
	ID       string // base64url credential ID, posted back to remove it
	Name     string
	Created  string
	LastUsed string // "" when never used
	Synced   bool
	Flagged  bool
}

// registrationView is a registration waiting for the browser.
type registrationView struct {
	ID      string
	Name    string
	Options template.JS // JSON from webauthn.BeginRegistration, HTML-safe
}

// removalView asks the citizen to confirm removing their last passkey.
type removalView struct {
	ID         string
	Name       string
	NoPassword bool // it is the last way in at all
}

// displayZone is the time zone of dates on the page (Viet Nam, UTC+7).
var displayZone = time.FixedZone("ICT", 7*60*60)

func displayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(displayZone).Format("02/01/2006 15:04")
}

func (a *Account) mountPasskeys(post func(string, http.HandlerFunc)) {
	if a.o.WebAuthn == nil {
		return
	}
	post(securityPath+"/webauthn", a.beginPasskey)
	post(securityPath+"/webauthn/confirm", a.confirmPasskey)
	post(securityPath+"/webauthn/remove", a.removePasskey)
}

// fillPasskeys puts the citizen's passkeys on the page.
func (a *Account) fillPasskeys(ctx context.Context, citizenID string, pg *securityPage) error {
	if a.o.WebAuthn == nil {
		return nil
	}
	pg.PasskeysOn = true
	creds, err := a.o.WebAuthn.Credentials(ctx, citizenID)
	if err != nil {
		return err
	}
	for _, c := range creds {
		pg.Passkeys = append(pg.Passkeys, passkeyView{
			ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name,
			Created: displayTime(c.CreatedAt), LastUsed: displayTime(c.LastUsedAt),
			Synced: webauthn.Synced(c), Flagged: c.Flagged,
		})
	}
	return nil
}

// hasSecondFactor reports whether the citizen has an authenticator app or
// a usable passkey (a blocked one does not count: the citizen could not
// reach level 2 with it, and must be able to enrol another).
func (a *Account) hasSecondFactor(ctx context.Context, citizenID string) (bool, error) {
	if ok, err := a.o.TOTP.Enrolled(ctx, citizenID); err != nil || ok || a.o.WebAuthn == nil {
		return ok, err
	}
	level, err := a.o.WebAuthn.Level(ctx, citizenID)
	return level > 0, err
}

// requireEnrolment is require at the level a new authenticator (app or
// passkey) needs: level 2 once the citizen has a second factor, level 1 for
// the first. Otherwise a password alone could add a second factor next to
// one the citizen has, and reach level 2 with it.
func (a *Account) requireEnrolment(w http.ResponseWriter, r *http.Request) *session.Session {
	level := assurance.Low
	if sess := a.o.Login.Peek(r); sess != nil {
		has, err := a.hasSecondFactor(r.Context(), sess.CitizenID)
		if err != nil {
			a.o.Log.ErrorContext(r.Context(), "check second factor", "err", err)
			a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
			return nil
		}
		if has {
			level = assurance.Substantial
		}
	}
	return a.require(w, r, level)
}

func (a *Account) beginPasskey(w http.ResponseWriter, r *http.Request) {
	sess := a.requireEnrolment(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	c, err := a.o.Store.CitizenByID(ctx, sess.CitizenID)
	if err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	reg, err := a.o.WebAuthn.BeginRegistration(ctx, c, r.PostFormValue("name"))
	if errors.Is(err, webauthn.ErrName) {
		a.render(w, r, sess, http.StatusUnprocessableEntity, securityPage{Error: "err_webauthn_name"})
		return
	} else if err != nil {
		a.o.Log.ErrorContext(ctx, "begin passkey registration", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.render(w, r, sess, http.StatusOK, securityPage{PasskeyRegistration: &registrationView{
		ID: reg.ID, Name: reg.Name, Options: template.JS(reg.Options),
	}})
}

func (a *Account) confirmPasskey(w http.ResponseWriter, r *http.Request) {
	sess := a.requireEnrolment(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		a.render(w, r, sess, http.StatusBadRequest, securityPage{Error: "err_webauthn_register"})
		return
	}
	resp := r.PostForm["credential"]
	if len(resp) != 1 || resp[0] == "" || len(resp[0]) > webauthn.MaxResponseLen {
		a.render(w, r, sess, http.StatusBadRequest, securityPage{Error: "err_webauthn_register"})
		return
	}
	cred, err := a.o.WebAuthn.FinishRegistration(ctx, sess.CitizenID, r.PostFormValue("ceremony"), []byte(resp[0]))
	msg := ""
	switch {
	case err == nil:
	case errors.Is(err, webauthn.ErrNoChallenge), errors.Is(err, webauthn.ErrExpired):
		msg = "err_webauthn_expired"
	case errors.Is(err, webauthn.ErrNotAllowed):
		msg = "err_webauthn_policy"
	case errors.Is(err, webauthn.ErrExists):
		msg = "webauthn_exists"
	case errors.Is(err, webauthn.ErrInvalid), errors.Is(err, webauthn.ErrUserNotVerified):
		msg = "err_webauthn_register"
	default:
		a.o.Log.ErrorContext(ctx, "finish passkey registration", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	ev := audit.Event{Actor: "citizen:" + sess.CitizenID, Action: "webauthn.enrol", Target: "citizen:" + sess.CitizenID,
		ClientIP: server.ClientIP(ctx), Details: map[string]string{}}
	if msg != "" {
		ev.Outcome, ev.Details["reason"] = "failure", err.Error()
		a.o.Audit.Record(ctx, ev)
		a.render(w, r, sess, http.StatusUnprocessableEntity, securityPage{Error: msg})
		return
	}
	ev.Outcome = "success"
	ev.Details["credential"] = webauthn.Fingerprint(cred.ID)
	ev.Details["synced"] = map[bool]string{true: "yes", false: "no"}[cred.BackupEligible]
	a.o.Audit.Record(ctx, ev)
	http.Redirect(w, r, securityPath+"?done=passkey_added", http.StatusSeeOther)
}

func (a *Account) removePasskey(w http.ResponseWriter, r *http.Request) {
	sess := a.require(w, r, assurance.Substantial)
	if sess == nil {
		return
	}
	ctx := r.Context()
	id, err := base64.RawURLEncoding.DecodeString(r.PostFormValue("id"))
	if err != nil || len(id) == 0 {
		a.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, nil), "err_form")
		return
	}
	creds, err := a.o.WebAuthn.Credentials(ctx, sess.CitizenID)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list passkeys", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	var target *store.WebAuthnCredential
	for i := range creds {
		if string(creds[i].ID) == string(id) {
			target = &creds[i]
		}
	}
	if target == nil { // not the citizen's, or already removed
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return
	}
	// The last passkey goes only once the citizen has read what it means.
	if len(creds) == 1 && r.PostFormValue("confirm") != "yes" {
		a.render(w, r, sess, http.StatusOK, securityPage{PasskeyRemoval: &removalView{
			ID: r.PostFormValue("id"), Name: target.Name, NoPassword: !a.hasPassword(ctx, sess.CitizenID),
		}})
		return
	}
	if err := a.o.WebAuthn.Remove(ctx, sess.CitizenID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.o.Log.ErrorContext(ctx, "remove passkey", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + sess.CitizenID, Action: "webauthn.remove", Target: "citizen:" + sess.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"credential": webauthn.Fingerprint(id)}})
	http.Redirect(w, r, securityPath+"?done=passkey_removed", http.StatusSeeOther)
}

// hasPassword reports whether the citizen has a password, when the store
// can tell; it assumes so otherwise (the warning is then the milder one).
func (a *Account) hasPassword(ctx context.Context, citizenID string) bool {
	p, ok := a.o.Store.(interface {
		PasswordHash(ctx context.Context, citizenID string) (string, error)
	})
	if !ok {
		return true
	}
	_, err := p.PasswordHash(ctx, citizenID)
	return !errors.Is(err, store.ErrNotFound)
}
