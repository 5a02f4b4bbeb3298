// Package account is the citizen's self-service: /account/security, where
// a citizen sets up or removes the authenticator app and passkeys
// (webauthn.go), keeps the "second factor on every login" setting, and
// logs out. Sensitive changes need a fresh login at the right level, got
// through the login engine as the "account" protocol, so the citizen is
// asked only what is missing.
// It does not authenticate anyone itself.
package account

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Options configures the account pages.
type Options struct {
	Store    Store
	Login    *login.Engine
	Sessions *session.Store
	TOTP     *totp.Authenticator
	// WebAuthn registers passkeys; nil when passkeys are off.
	WebAuthn *webauthn.Authenticator
	// Certificates links signature certificates; nil when certificate
	// login is off.
	Certificates CertificateBinder
	// Consents lists and withdraws the citizen's approvals of portals
	// (portals.go); Portals ends what a withdrawn portal holds. Nil
	// Consents: no portals page.
	Consents store.Consents
	Portals  PortalRevoker
	Audit    *audit.Logger
	Renderer *server.Renderer
	Log      *slog.Logger
	// Fresh is how recent the login must be for account changes.
	Fresh time.Duration
	// Ledger is the data-release ledger the citizen reads (activity.go).
	Ledger LedgerReader
	// Export reads everything held about the citizen (export.go).
	Export ExportStore

	// Registration turns /register on.
	Registration bool
	// Hasher hashes new passwords and checks the current one; Policy is
	// what a new password must be.
	Hasher *password.Hasher
	Policy password.Policy
	// Notifier sends codes and notices (internal/notify); nil sends none.
	Notifier Notifier
	// SecondFactorThrottle bounds one-time codes per citizen, the login's
	// policy: a recovery asks for the same codes.
	SecondFactorThrottle session.ThrottlePolicy
	// PortalName names a session participant (protocol, id) for the
	// citizen; "" when unknown.
	PortalName func(ctx context.Context, protocol, id string) string
}

// Store is the slice of storage the account pages need.
type Store interface {
	store.Citizens
	store.Passwords
	RevokeRefreshTokensByCitizen(ctx context.Context, citizenID string, now time.Time) error
}

// Notifier queues messages to citizens (internal/notify). Queuing is not
// delivering: an error means the message could not even be queued.
type Notifier interface {
	// SendCode queues a verification code to an address not yet verified.
	SendCode(ctx context.Context, to notify.Contact, lang string, kind notify.Kind, code string, validity time.Duration) error
	// Notify queues a notice to each verified contact of c.
	Notify(ctx context.Context, c *store.Citizen, lang string, kind notify.Kind, data map[string]string) error
}

// Account serves the citizen's pages.
type Account struct {
	o Options
	// resumable are the posted actions an intent may carry out after a
	// login (intent.go), by path: those without path wildcards.
	resumable map[string]http.HandlerFunc
}

// Protocol is the account pages' name with the login engine; the
// composition root registers it.
const Protocol = "account"

// New returns the account pages.
func New(o Options) *Account {
	if o.Fresh == 0 {
		o.Fresh = 15 * time.Minute
	}
	a := &Account{o: o, resumable: map[string]http.HandlerFunc{}}
	return a
}

const (
	overviewPath = "/account"
	securityPath = "/account/security"
)

// Mount registers the pages.
func (a *Account) Mount(mux *http.ServeMux) {
	forms := http.NewCrossOriginProtection()
	post := func(pattern string, h http.HandlerFunc) {
		mux.Handle("POST "+pattern, forms.Handler(h))
		if !strings.Contains(pattern, "{") {
			a.resumable[pattern] = h
		}
	}
	if a.o.Registration {
		mux.HandleFunc("GET "+registerPath, a.registerForm)
		post(registerPath, a.register)
	}
	mux.HandleFunc("GET "+recoverPath, a.recoverForm)
	post(recoverPath, a.startRecovery)
	mux.HandleFunc("GET "+recoverPath+"/{id}", a.recoveryStep)
	post(recoverPath+"/{id}", a.submitRecoveryStep)
	for purpose, next := range map[string]func(http.ResponseWriter, *http.Request, *verification){
		"register": a.completeRegistration, "recover": a.recoveryVerified, "contact": a.contactVerified,
	} {
		mux.HandleFunc("GET "+purposePaths[purpose]+"{id}", a.showVerify(purpose))
		post(purposePaths[purpose]+"{id}", a.submitCode(purpose, next))
		post(purposePaths[purpose]+"{id}/resend", a.resend(purpose))
	}
	mux.HandleFunc("GET "+contactsPath, a.contacts)
	post(contactsPath+"/{kind}", a.setContact)
	post(contactsPath+"/remove/{kind}", a.removeContact)
	mux.HandleFunc("GET "+overviewPath, a.overview)
	mux.HandleFunc("GET "+sessionsPath, a.sessions)
	post(sessionsPath+"/end", a.endSession)
	mux.HandleFunc("GET "+passwordPath, a.passwordForm)
	post(passwordPath, a.changePassword)
	mux.HandleFunc("GET "+securityPath, a.security)
	post(securityPath+"/totp", a.beginTOTP)
	post(securityPath+"/totp/confirm", a.confirmTOTP)
	post(securityPath+"/totp/remove", a.removeTOTP)
	post(securityPath+"/totp/cancel", a.cancelTOTP)
	mux.HandleFunc("GET "+recoveryCodesPath+"{id}", a.showCodes)
	mux.HandleFunc("GET "+recoveryCodesPath+"{id}/txt", a.downloadCodes)
	post(recoveryCodesPath+"{id}/saved", a.savedCodes)
	post(securityPath+"/second-factor", a.secondFactor)
	a.mountPasskeys(post)
	a.mountCertificates(post, mux)
	a.mountPortals(post, mux)
	post("/account/logout", a.logout)
	mux.HandleFunc("GET "+resumePath+"{id}", a.resume)
	mux.HandleFunc("GET "+activityPath, a.activity)
	mux.HandleFunc("GET "+exportPath, a.exportJSON)
	mux.HandleFunc("GET "+exportCSVPath, a.exportCSV)
}

// require returns the session when it holds level at most Fresh old;
// otherwise it sends the citizen through the login engine, back to the
// security page, and returns nil.
func (a *Account) require(w http.ResponseWriter, r *http.Request, level assurance.Level) *session.Session {
	return a.requireAt(w, r, level, securityPath)
}

// requireAt is require, coming back to returnTo (a path under /account/).
func (a *Account) requireAt(w http.ResponseWriter, r *http.Request, level assurance.Level, returnTo string) *session.Session {
	fresh := a.o.Fresh
	req := login.Request{Protocol: Protocol, RequestID: returnTo, MinLevel: level, MaxAge: &fresh, ClientName: ""}
	sess, err := a.o.Login.Current(r)
	if err != nil {
		a.o.Login.Unavailable(w, r, server.Locale(r, nil))
		return nil
	}
	if sess != nil && a.o.Login.Evaluate(sess, req).Satisfied {
		return sess
	}
	req.Purpose = purpose(r.URL.Path, sess != nil)
	req.RequestID = a.keepIntent(w, r, returnTo)
	a.o.Login.Begin(w, r, req)
	return nil
}

// Complete implements login.Protocol: back to the account page.
func (a *Account) Complete(w http.ResponseWriter, r *http.Request, returnTo string, _ login.Completion) {
	if returnTo != overviewPath && !strings.HasPrefix(returnTo, "/account/") {
		returnTo = securityPath
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// Fail implements login.Protocol: a citizen who went back is back on the
// account pages.
func (a *Account) Fail(w http.ResponseWriter, r *http.Request, _ string, reason error) {
	if errors.Is(reason, login.ErrCancelled) {
		http.Redirect(w, r, overviewPath, http.StatusSeeOther)
		return
	}
	key := "err_generic"
	if errors.Is(reason, login.ErrUnmet) {
		key = "err_account_level"
	}
	a.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, nil), key)
}

// securityPage is the view model of account_security.html.
type securityPage struct {
	Name             string
	TOTPEnrolled     bool
	RecoveryLeft     int
	SkipSecondFactor bool
	Enrolment        *enrolmentView
	Message          string
	Error            string
	// Passkeys (webauthn.go).
	PasskeysOn          bool
	Passkeys            []passkeyView
	PasskeyRegistration *registrationView
	PasskeyRemoval      *removalView
	// CertificatesOn links to the certificates page (certificates.go).
	CertificatesOn bool
}

type enrolmentView struct {
	Secret string
	Groups []string     // Secret in groups of four, for reading aloud and typing
	URL    template.URL // otpauth://, allowed explicitly: html/template would strip the scheme
	QR     template.URL // data:image/png;base64,…
}

func (a *Account) security(w http.ResponseWriter, r *http.Request) {
	sess := a.require(w, r, assurance.Low)
	if sess == nil {
		return
	}
	a.render(w, r, sess, http.StatusOK, securityPage{Message: a.flash(r)})
}

func (a *Account) flash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "removed":
		return "msg_totp_removed"
	case "setting":
		return "msg_setting_saved"
	case "passkey_added":
		return "msg_webauthn_added"
	case "passkey_removed":
		return "msg_webauthn_removed"
	case "password":
		return "acct_password_changed"
	case "codes_saved":
		return "msg_codes_saved"
	case "totp_cancelled":
		return "msg_totp_cancelled"
	}
	return ""
}

func (a *Account) render(w http.ResponseWriter, r *http.Request, sess *session.Session, status int, pg securityPage) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	c, err := a.o.Store.CitizenByID(ctx, sess.CitizenID)
	if err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	pg.Name = c.Name
	pg.SkipSecondFactor = c.SkipSecondFactor
	pg.CertificatesOn = a.o.Certificates != nil
	if pg.TOTPEnrolled, err = a.o.TOTP.Enrolled(ctx, c.ID); err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if pg.TOTPEnrolled {
		pg.RecoveryLeft, _ = a.o.TOTP.RecoveryCodesLeft(ctx, c.ID)
	}
	if err := a.fillPasskeys(ctx, c.ID, &pg); err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if pg.Message != "" {
		pg.Message = a.o.Renderer.T(lang, pg.Message)
	}
	if pg.Error != "" {
		pg.Error = a.o.Renderer.T(lang, pg.Error)
	}
	a.o.Renderer.Render(w, r, status, "account_security", lang, "account_title", pg)
}

func (a *Account) record(ctx context.Context, sess *session.Session, action string) {
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + sess.CitizenID, Action: action, Target: "citizen:" + sess.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx)})
}

func (a *Account) beginTOTP(w http.ResponseWriter, r *http.Request) {
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
	en, err := a.o.TOTP.BeginEnrolment(ctx, c.ID, audit.MaskNumber(c.Number))
	if errors.Is(err, totp.ErrAlreadyEnrolled) {
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return
	} else if err != nil {
		a.o.Log.ErrorContext(ctx, "begin TOTP enrolment", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.render(w, r, sess, http.StatusOK, securityPage{Enrolment: view(en)})
}

func view(en *totp.Enrolment) *enrolmentView {
	var groups []string
	for s := en.Secret; s != ""; {
		n := min(4, len(s))
		groups, s = append(groups, s[:n]), s[n:]
	}
	return &enrolmentView{
		Secret: en.Secret,
		Groups: groups,
		URL:    template.URL(en.URL),
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCodePNG)),
	}
}

func (a *Account) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	sess := a.requireEnrolment(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	codes, err := a.o.TOTP.ConfirmEnrolment(ctx, sess.CitizenID, r.PostFormValue("code"))
	switch {
	case errors.Is(err, totp.ErrInvalidCode) || errors.Is(err, totp.ErrReplayed):
		// Show the same secret again so the citizen can retry.
		a.render(w, r, sess, http.StatusUnprocessableEntity, securityPage{Error: "err_code", Enrolment: a.pending(ctx, sess)})
		return
	case err != nil:
		a.o.Log.ErrorContext(ctx, "confirm TOTP enrolment", "err", err)
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return
	}
	a.record(ctx, sess, "totp.enrol")
	to, err := a.showCodesLater(r, sess.CitizenID, codes)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "keep recovery codes to show", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// cancelTOTP drops an enrolment in progress.
func (a *Account) cancelTOTP(w http.ResponseWriter, r *http.Request) {
	sess := a.require(w, r, assurance.Low)
	if sess == nil {
		return
	}
	if err := a.o.TOTP.CancelEnrolment(r.Context(), sess.CitizenID); err != nil && !errors.Is(err, totp.ErrAlreadyEnrolled) {
		a.o.Log.ErrorContext(r.Context(), "cancel TOTP enrolment", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	http.Redirect(w, r, securityPath+"?done=totp_cancelled", http.StatusSeeOther)
}

// pending re-renders an unconfirmed enrolment, if the authenticator can.
func (a *Account) pending(ctx context.Context, sess *session.Session) *enrolmentView {
	en, err := a.o.TOTP.PendingEnrolment(ctx, sess.CitizenID)
	if err != nil {
		return nil
	}
	return view(en)
}

func (a *Account) removeTOTP(w http.ResponseWriter, r *http.Request) {
	sess := a.require(w, r, assurance.Substantial)
	if sess == nil {
		return
	}
	ctx := r.Context()
	if err := a.o.TOTP.Remove(ctx, sess.CitizenID); err != nil && !errors.Is(err, totp.ErrNotEnrolled) {
		a.o.Log.ErrorContext(ctx, "remove TOTP", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.record(ctx, sess, "totp.remove")
	http.Redirect(w, r, securityPath+"?done=removed", http.StatusSeeOther)
}

func (a *Account) secondFactor(w http.ResponseWriter, r *http.Request) {
	skip := r.PostFormValue("always") != "on"
	// Relaxing the rule needs the second factor itself; tightening it does not.
	level := assurance.Low
	if skip {
		level = assurance.Substantial
	}
	sess := a.require(w, r, level)
	if sess == nil {
		return
	}
	ctx := r.Context()
	err := a.o.Store.UpdateCitizen(ctx, sess.CitizenID, func(c *store.Citizen) error {
		c.SkipSecondFactor = skip
		return nil
	})
	if err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.record(ctx, sess, "account.second_factor_setting")
	http.Redirect(w, r, securityPath+"?done=setting", http.StatusSeeOther)
}

func (a *Account) logout(w http.ResponseWriter, r *http.Request) {
	sess := a.o.Login.Session(r)
	how := login.How{Reason: "logout", W: w, R: r, Then: "/logged-out"}
	if sess != nil {
		how.Actor = "citizen:" + sess.CitizenID
	}
	http.Redirect(w, r, a.o.Login.End(r.Context(), sess, how), http.StatusSeeOther)
}
