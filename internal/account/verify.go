package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// The code step shared by registration, recovery and new contacts
// (codes.go has the rules): one page, one handler, three paths.

var purposePaths = map[string]string{
	"register": registerPath + "/verify/",
	"recover":  recoverPath + "/verify/",
	"contact":  contactsPath + "/verify/",
}

func verifyPath(v verification) string { return purposePaths[v.Purpose] + v.ID }

// codeKinds are the messages that carry each purpose's code.
var codeKinds = map[string]notify.Kind{
	"register": notify.CodeRegistration,
	"recover":  notify.CodeRecovery,
	"contact":  notify.CodeContact,
}

// verifyPage is the view model of verify.html.
type verifyPage struct {
	Purpose string
	Action  string // the code form's path; resend is Action + "/resend"
	// To is the contact the code went to, masked; "" for a recovery, whose
	// page never says whether the number has an account.
	To      string
	Message string
	Errors  formErrors
}

// startVerification draws v's first code, keeps v and sends the code when
// there is someone to send it to. It answers the citizen itself and
// reports false when Redis failed.
func (a *Account) startVerification(w http.ResponseWriter, r *http.Request, v *verification, kind notify.Kind) bool {
	ctx := r.Context()
	code := v.issue(a.now())
	if err := verifications.Put(ctx, a.o.Sessions, v.ID, *v, verificationTTL); err != nil {
		a.unavailable(w, r, "keep verification", err)
		return false
	}
	a.sendCode(ctx, v, kind, code)
	return true
}

// sendCode queues the code's message in the background, so that a page
// with a code sent and one without (codes.go) take the same time. A
// failure is logged and not the citizen's: they can ask for the code
// again.
func (a *Account) sendCode(ctx context.Context, v *verification, kind notify.Kind, code string) {
	if !v.Send || a.o.Notifier == nil {
		return
	}
	to, lang, purpose := v.To, v.Lang, v.Purpose
	a.background(ctx, func(ctx context.Context) {
		if err := a.o.Notifier.SendCode(ctx, to, lang, kind, code, codeValidity); err != nil {
			a.o.Log.ErrorContext(ctx, "queue verification code", "purpose", purpose, "err", err)
		}
	})
}

// background runs fn after the request, with the request's values (its
// id for the log) and a deadline of its own.
func (a *Account) background(ctx context.Context, fn func(context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	go func() {
		defer cancel()
		fn(ctx)
	}()
}

// loadVerification reads the verification of the request's path, of this
// browser and this purpose; otherwise it answers and returns nil.
func (a *Account) loadVerification(w http.ResponseWriter, r *http.Request, purpose string) *verification {
	var v verification
	err := verifications.Load(r.Context(), a.o.Sessions, r.PathValue("id"), &v)
	switch {
	case errors.Is(err, session.ErrNotFound) || (err == nil && v.Purpose != purpose):
		a.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "acct_err_verification_gone")
		return nil
	case err != nil:
		a.unavailable(w, r, "load verification", err)
		return nil
	case !a.o.Login.SameBrowser(r, v.Browser):
		a.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, nil), "err_other_browser")
		return nil
	}
	return &v
}

func (a *Account) renderVerify(w http.ResponseWriter, r *http.Request, status int, v *verification, pg verifyPage) {
	pg.Purpose, pg.Action = v.Purpose, verifyPath(*v)
	if v.Purpose != "recover" {
		pg.To = maskContact(v.To)
	}
	a.o.Renderer.Render(w, r, status, "verify", server.Locale(r, nil), "acct_verify_title", pg)
}

// showVerify is the code form of any purpose.
func (a *Account) showVerify(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := a.loadVerification(w, r, purpose)
		if v == nil {
			return
		}
		var pg verifyPage
		if r.URL.Query().Get("sent") == "1" {
			pg.Message = a.o.Renderer.T(server.Locale(r, nil), "acct_code_sent_again")
		}
		a.renderVerify(w, r, http.StatusOK, v, pg)
	}
}

// submitCode checks the code and hands a verified verification to its
// purpose's next step.
func (a *Account) submitCode(purpose string, next func(http.ResponseWriter, *http.Request, *verification)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := server.Locale(r, nil)
		v := a.loadVerification(w, r, purpose)
		if v == nil {
			return
		}
		code, ok := citizens.ParseCode(postForm(r))
		if !ok {
			a.renderVerify(w, r, http.StatusUnprocessableEntity, v, verifyPage{Errors: formErrors{{"code", a.o.Renderer.T(lang, codeWrong)}}})
			return
		}
		wait, err := a.o.Sessions.Reserve(ctx, session.ThrottleKey("codeip", server.ClientIP(ctx)), codeIPThrottle)
		if err != nil {
			a.unavailable(w, r, "throttle", err)
			return
		}
		if wait > 0 {
			w.Header().Set("Retry-After", retryAfter(wait))
			a.renderVerify(w, r, http.StatusTooManyRequests, v, verifyPage{Errors: formErrors{{"code", a.waitText(lang, wait)}}})
			return
		}
		var outcome string
		err = verifications.Update(ctx, a.o.Sessions, v.ID, v, func() error {
			outcome = v.check(code, a.now())
			return nil
		})
		if err != nil {
			a.unavailable(w, r, "check code", err)
			return
		}
		if outcome != codeOK {
			a.o.Audit.Record(ctx, audit.Event{Actor: "anonymous", Action: "verification.code", Outcome: "failure",
				ClientIP: server.ClientIP(ctx), Target: citizenRef(v.CitizenID), Details: map[string]string{"purpose": v.Purpose}})
			a.renderVerify(w, r, http.StatusUnprocessableEntity, v, verifyPage{Errors: formErrors{{"code", a.o.Renderer.T(lang, outcome)}}})
			return
		}
		a.o.Sessions.Release(ctx, session.ThrottleKey("codeip", server.ClientIP(ctx)))
		next(w, r, v)
	}
}

// take removes a verified verification so its step runs once; false (the
// citizen told) when another request took it first.
func (a *Account) take(w http.ResponseWriter, r *http.Request, v *verification) bool {
	var got verification
	err := verifications.Take(r.Context(), a.o.Sessions, v.ID, &got)
	if errors.Is(err, session.ErrNotFound) {
		a.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "acct_err_verification_gone")
		return false
	} else if err != nil {
		a.unavailable(w, r, "take verification", err)
		return false
	}
	*v = got
	return true
}

// resend draws a new code, when the rules allow one now.
func (a *Account) resend(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := server.Locale(r, nil)
		v := a.loadVerification(w, r, purpose)
		if v == nil {
			return
		}
		var code string
		var wait time.Duration
		var allowed bool
		err := verifications.Update(ctx, a.o.Sessions, v.ID, v, func() error {
			if allowed, wait = v.canResend(a.now()); allowed {
				code = v.issue(a.now())
			}
			return nil
		})
		if err != nil {
			a.unavailable(w, r, "resend code", err)
			return
		}
		if !allowed {
			msg := a.o.Renderer.T(lang, "acct_err_no_more_codes")
			if wait > 0 {
				w.Header().Set("Retry-After", retryAfter(wait))
				msg = a.waitText(lang, wait)
			}
			a.renderVerify(w, r, http.StatusTooManyRequests, v, verifyPage{Errors: formErrors{{"code", msg}}})
			return
		}
		a.sendCode(ctx, v, codeKinds[purpose], code)
		http.Redirect(w, r, verifyPath(*v)+"?sent=1", http.StatusSeeOther)
	}
}

// selfServiceAllowed takes an attempt from the registration and recovery
// throttles (per address, per number); when one demands a wait it
// answers 429 and reports false.
func (a *Account) selfServiceAllowed(w http.ResponseWriter, r *http.Request, number string) bool {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	for _, t := range []struct {
		key string
		p   session.ThrottlePolicy
	}{
		{session.ThrottleKey("selfip", server.ClientIP(ctx)), selfServiceIPThrottle},
		{session.ThrottleKey("selfnum", number), selfServiceNumberThrottle},
	} {
		wait, err := a.o.Sessions.Reserve(ctx, t.key, t.p)
		if err != nil {
			a.unavailable(w, r, "throttle", err)
			return false
		}
		if wait > 0 {
			a.o.Audit.Record(ctx, audit.Event{Actor: "anonymous", Action: "selfservice.throttled", Outcome: "throttled",
				ClientIP: server.ClientIP(ctx), Details: map[string]string{"path": r.URL.Path}})
			w.Header().Set("Retry-After", retryAfter(wait))
			a.o.Renderer.Render(w, r, http.StatusTooManyRequests, "error", lang, "err_title",
				map[string]string{"Message": a.waitText(lang, wait)})
			return false
		}
	}
	return true
}

func (a *Account) now() time.Time { return a.o.Sessions.Now() }

func retryAfter(wait time.Duration) string { return fmt.Sprint(int(wait.Seconds() + 0.999)) }

func (a *Account) waitText(lang string, wait time.Duration) string {
	return fmt.Sprintf(a.o.Renderer.T(lang, "err_throttled"), a.o.Renderer.Duration(lang, wait))
}

// fieldErrors translates a parser's field errors for a page.
func (a *Account) fieldErrors(lang string, errs citizens.FieldErrors) formErrors {
	out := make(formErrors, 0, len(errs))
	for _, e := range errs {
		out = append(out, formError{Field: e.Field, Text: e.Text(a.o.Renderer.T, lang)})
	}
	return out
}

// notify tells c's verified contacts of a change, in the background
// (like sendCode). Queuing a message never fails the citizen's action: a
// failure is logged.
func (a *Account) notify(r *http.Request, c *store.Citizen, kind notify.Kind) {
	if a.o.Notifier == nil {
		return
	}
	lang := server.Locale(r, nil)
	a.background(r.Context(), func(ctx context.Context) {
		if err := a.o.Notifier.Notify(ctx, c, lang, kind, nil); err != nil {
			a.o.Log.ErrorContext(ctx, "queue notification", "kind", kind, "err", err)
		}
	})
}

// maskContact shows enough of an address for its owner to recognise it:
// "a***@example.vn", "+84 *** *** 678".
func maskContact(c notify.Contact) string {
	addr := c.Address
	if c.Kind == notify.Email {
		local, domain, ok := strings.Cut(addr, "@")
		if !ok || local == "" {
			return "***"
		}
		r := []rune(local)
		return string(r[0]) + "***@" + domain
	}
	if len(addr) < 6 {
		return "***"
	}
	return addr[:3] + " *** *** " + addr[len(addr)-3:]
}

func citizenRef(id string) string {
	if id == "" {
		return ""
	}
	return "citizen:" + id
}

// loginParam is the login transaction a journey started from (the link on
// the login page carries it), to go back to at the end; "" when absent or
// malformed.
func loginParam(r *http.Request) string {
	id := r.FormValue("login")
	if len(id) > 64 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return ""
	}
	return id
}
