package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Protocol is a protocol that hands requests to the engine.
type Protocol interface {
	// Complete answers the protocol request with the citizen's session
	// (typically by redirecting back to the portal).
	Complete(w http.ResponseWriter, r *http.Request, requestID string, sess *session.Session)
	// Fail answers the protocol request with a standard error; reason is
	// one of the Err* values of this package.
	Fail(w http.ResponseWriter, r *http.Request, requestID string, reason error)
}

// Store is the slice of storage the engine needs.
type Store interface {
	store.Citizens
	store.Passwords
}

// Options configures the engine.
type Options struct {
	Store        Store
	Sessions     *session.Store
	Hasher       *password.Hasher
	Audit        *audit.Logger
	Renderer     *server.Renderer
	Log          *slog.Logger
	Cookie       CookieOptions
	LoginTimeout time.Duration
	// AccountThrottle applies per citizen number, IPThrottle per client address.
	AccountThrottle session.ThrottlePolicy
	IPThrottle      session.ThrottlePolicy
}

// CookieOptions says how the SSO cookie is set.
type CookieOptions struct {
	Name   string // "__Host-citizenid" on HTTPS, "citizenid" on a plain-HTTP localhost issuer
	Secure bool
}

// CookieFor returns the cookie settings for an issuer scheme.
func CookieFor(https bool) CookieOptions {
	if https {
		return CookieOptions{Name: "__Host-citizenid", Secure: true}
	}
	return CookieOptions{Name: "citizenid", Secure: false}
}

// Engine runs logins.
type Engine struct {
	o         Options
	protocols map[string]Protocol
}

// New returns an engine; protocols register with Register before serving.
func New(o Options) *Engine {
	return &Engine{o: o, protocols: map[string]Protocol{}}
}

// Register makes a protocol known under name.
func (e *Engine) Register(name string, p Protocol) { e.protocols[name] = p }

// Mount registers the login pages.
func (e *Engine) Mount(mux *http.ServeMux) {
	forms := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /login/{txn}", e.show)
	mux.Handle("POST /login/{txn}", forms.Handler(http.HandlerFunc(e.submit)))
}

// Session returns the live SSO session of the request, or nil.
func (e *Engine) Session(r *http.Request) *session.Session {
	c, err := r.Cookie(e.o.Cookie.Name)
	if err != nil {
		return nil
	}
	sess, err := e.o.Sessions.Get(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			e.o.Log.ErrorContext(r.Context(), "read session", "err", err)
		}
		return nil
	}
	return sess
}

// Peek returns the request's live SSO session without recording activity, or nil.
func (e *Engine) Peek(r *http.Request) *session.Session {
	c, err := r.Cookie(e.o.Cookie.Name)
	if err != nil {
		return nil
	}
	sess, err := e.o.Sessions.Peek(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return sess
}

// Level is the level a session still holds. Until step-up arrives every
// event is level 1 at most; the highest event level counts.
func Level(sess *session.Session) assurance.Level {
	var l assurance.Level
	for _, ev := range sess.Events {
		l = max(l, assurance.Level(ev.Level))
	}
	return l
}

// usable reports whether sess satisfies req without asking the citizen.
func (e *Engine) usable(ctx context.Context, sess *session.Session, req Request) bool {
	if sess == nil || Level(sess) < assurance.Low {
		return false
	}
	if req.MaxAge != nil && e.o.Sessions.Now().Sub(sess.AuthTime()) > *req.MaxAge {
		return false
	}
	c, err := e.o.Store.CitizenByID(ctx, sess.CitizenID)
	return err == nil && !c.Disabled
}

// Begin starts or short-cuts a login for a protocol request.
func (e *Engine) Begin(w http.ResponseWriter, r *http.Request, req Request) {
	p, ok := e.protocols[req.Protocol]
	if !ok {
		e.o.Log.ErrorContext(r.Context(), "unknown protocol", "protocol", req.Protocol)
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, server.Locale(r, req.UILocales), "err_generic")
		return
	}
	sess := e.Session(r)
	if e.usable(r.Context(), sess, req) {
		p.Complete(w, r, req.RequestID, sess)
		return
	}
	if req.NoPrompt {
		p.Fail(w, r, req.RequestID, ErrLoginRequired)
		return
	}
	txn := &Txn{
		ID:        session.RandomToken(24),
		State:     StatePassword,
		Request:   req,
		CreatedAt: e.o.Sessions.Now(),
	}
	if err := e.o.Sessions.Put(r.Context(), txnKind, txn.ID, txn, e.o.LoginTimeout); err != nil {
		e.o.Log.ErrorContext(r.Context(), "store login transaction", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, req.UILocales), "err_generic")
		return
	}
	http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
}

func (e *Engine) loadTxn(w http.ResponseWriter, r *http.Request) (*Txn, bool) {
	id := r.PathValue("txn")
	txn := new(Txn)
	err := e.o.Sessions.GetValue(r.Context(), txnKind, id, txn)
	if err == nil && len(id) < 64 {
		return txn, true
	}
	if !errors.Is(err, session.ErrNotFound) && err != nil {
		e.o.Log.ErrorContext(r.Context(), "load login transaction", "err", err)
	}
	e.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "err_txn_expired")
	return nil, false
}

// passwordPage is the view model of login.html.
type passwordPage struct {
	Action     string
	ClientName string
	Number     string
	Error      string
}

func (e *Engine) show(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	number := ""
	if ValidCitizenNumber(txn.Request.LoginHint) {
		number = txn.Request.LoginHint
	}
	e.renderPassword(w, r, txn, http.StatusOK, number, "")
}

func (e *Engine) renderPassword(w http.ResponseWriter, r *http.Request, txn *Txn, status int, number, errMsg string) {
	lang := server.Locale(r, txn.Request.UILocales)
	e.o.Renderer.Render(w, r, status, "login", lang, "login_title", passwordPage{
		Action:     "/login/" + txn.ID,
		ClientName: txn.Request.ClientName,
		Number:     number,
		Error:      errMsg,
	})
}

func (e *Engine) submit(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	lang := server.Locale(r, txn.Request.UILocales)
	if err := r.ParseForm(); err != nil {
		e.renderPassword(w, r, txn, http.StatusBadRequest, "", e.o.Renderer.T(lang, "err_form"))
		return
	}
	form, problem := parsePasswordForm(r.PostForm)
	if problem == "err_number_format" || problem == "err_form" {
		e.renderPassword(w, r, txn, http.StatusBadRequest, "", e.o.Renderer.T(lang, problem))
		return
	}
	ctx := r.Context()
	ip := server.ClientIP(ctx)
	ev := audit.Event{Actor: "anonymous", Action: "login.password", ClientIP: ip,
		Details: map[string]string{"citizen_number": audit.MaskNumber(form.Number), "client": txn.Request.ClientID}}

	// Throttling: per account and per address, checked before any hashing.
	acctKey, ipKey := "acct:"+session.Hash(form.Number), "ip:"+ip
	wait, err := e.retryAfter(ctx, acctKey, ipKey)
	if err != nil {
		e.o.Log.ErrorContext(ctx, "throttle check", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if wait > 0 {
		ev.Outcome, ev.Details["retry_after"] = "throttled", wait.Round(time.Second).String()
		e.o.Audit.Record(ctx, ev)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
		e.renderPassword(w, r, txn, http.StatusTooManyRequests, form.Number,
			fmt.Sprintf(e.o.Renderer.T(lang, "err_throttled"), humanDuration(wait, lang)))
		return
	}

	citizen, err := e.check(ctx, form, problem)
	if err != nil {
		ev.Outcome, ev.Details["reason"] = "failure", err.Error()
		if citizen != nil {
			ev.Target = "citizen:" + citizen.ID
		}
		e.o.Audit.Record(ctx, ev)
		e.o.Sessions.Fail(ctx, acctKey, e.o.AccountThrottle)
		e.o.Sessions.Fail(ctx, ipKey, e.o.IPThrottle)
		msg := "err_credentials"
		if errors.Is(err, errDisabled) {
			msg = "err_disabled"
		}
		e.renderPassword(w, r, txn, http.StatusUnauthorized, form.Number, e.o.Renderer.T(lang, msg))
		return
	}
	e.o.Sessions.ResetFailures(ctx, acctKey)
	ev.Outcome, ev.Actor, ev.Target = "success", "citizen:"+citizen.ID, "citizen:"+citizen.ID
	e.o.Audit.Record(ctx, ev)

	txn.CitizenID = citizen.ID
	txn.Events = append(txn.Events, session.AuthEvent{Method: assurance.AMRPassword, Level: int(assurance.Low), Time: e.o.Sessions.Now()})
	txn.State = StateDone
	e.finish(w, r, txn)
}

var (
	errUnknown   = errors.New("unknown citizen")
	errPassword  = errors.New("wrong password")
	errDisabled  = errors.New("account disabled")
	errNoPasswrd = errors.New("no password set")
)

// check verifies the password, spending the same time whether or not the
// citizen exists. It returns the citizen when known.
func (e *Engine) check(ctx context.Context, f passwordForm, problem string) (*store.Citizen, error) {
	if problem != "" {
		e.o.Hasher.VerifyDummy("")
		return nil, errPassword
	}
	c, err := e.o.Store.CitizenByNumber(ctx, f.Number)
	if errors.Is(err, store.ErrNotFound) {
		e.o.Hasher.VerifyDummy(f.Password)
		return nil, errUnknown
	} else if err != nil {
		return nil, fmt.Errorf("look up citizen: %w", err)
	}
	hash, err := e.o.Store.PasswordHash(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		e.o.Hasher.VerifyDummy(f.Password)
		return c, errNoPasswrd
	} else if err != nil {
		return c, fmt.Errorf("load password: %w", err)
	}
	ok, rehash, err := e.o.Hasher.Verify(f.Password, hash)
	if err != nil {
		return c, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return c, errPassword
	}
	if c.Disabled {
		return c, errDisabled
	}
	if rehash {
		if nh, err := e.o.Hasher.Hash(f.Password); err == nil {
			if err := e.o.Store.ReplacePasswordHash(ctx, c.ID, hash, nh); err != nil && !errors.Is(err, store.ErrConflict) {
				e.o.Log.WarnContext(ctx, "rehash password", "err", err)
			}
		}
	}
	return c, nil
}

func (e *Engine) retryAfter(ctx context.Context, acctKey, ipKey string) (time.Duration, error) {
	a, err := e.o.Sessions.RetryAfter(ctx, acctKey, e.o.AccountThrottle)
	if err != nil {
		return 0, err
	}
	b, err := e.o.Sessions.RetryAfter(ctx, ipKey, e.o.IPThrottle)
	return max(a, b), err
}

// finish turns the transaction into an SSO session and hands it back to the
// protocol. A session of the same citizen is extended, never replaced, so
// step-up keeps it; any other session in this browser is ended.
func (e *Engine) finish(w http.ResponseWriter, r *http.Request, txn *Txn) {
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	// Single use: whoever deletes the transaction first completes it.
	var taken Txn
	if err := e.o.Sessions.Take(ctx, txnKind, txn.ID, &taken); err != nil {
		e.o.Renderer.Error(w, r, http.StatusConflict, lang, "err_txn_expired")
		return
	}
	sess := e.Session(r)
	if sess != nil && sess.CitizenID == txn.CitizenID {
		updated, err := e.o.Sessions.Update(ctx, sess, func(s *session.Session) error {
			s.Events = append(s.Events, txn.Events...)
			return nil
		})
		if err == nil {
			e.complete(w, r, txn, updated)
			return
		}
		e.o.Log.WarnContext(ctx, "extend session failed, starting a new one", "err", err)
	}
	if sess != nil {
		e.o.Sessions.Delete(ctx, sess)
	}
	cookie, created, err := e.o.Sessions.Create(ctx, txn.CitizenID, txn.Events)
	if err != nil {
		e.o.Log.ErrorContext(ctx, "create session", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	e.setCookie(w, cookie)
	e.complete(w, r, txn, created)
}

func (e *Engine) complete(w http.ResponseWriter, r *http.Request, txn *Txn, sess *session.Session) {
	p, ok := e.protocols[txn.Request.Protocol]
	if !ok {
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, server.Locale(r, nil), "err_generic")
		return
	}
	p.Complete(w, r, txn.Request.RequestID, sess)
}

func (e *Engine) setCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     e.o.Cookie.Name,
		Value:    value,
		Path:     "/",
		Secure:   e.o.Cookie.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// EndSession ends the request's SSO session (if any), clears the cookie and
// returns the ended session.
func (e *Engine) EndSession(w http.ResponseWriter, r *http.Request) *session.Session {
	http.SetCookie(w, &http.Cookie{Name: e.o.Cookie.Name, Value: "", Path: "/", MaxAge: -1, Secure: e.o.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	sess := e.Session(r)
	if sess != nil {
		if err := e.o.Sessions.Delete(r.Context(), sess); err != nil {
			e.o.Log.ErrorContext(r.Context(), "end session", "err", err)
		}
	}
	return sess
}

func humanDuration(d time.Duration, lang string) string {
	secs := int(d.Seconds() + 0.999)
	if secs < 60 {
		if lang == "en" {
			return fmt.Sprintf("%d seconds", secs)
		}
		return fmt.Sprintf("%d giây", secs)
	}
	mins := (secs + 59) / 60
	if lang == "en" {
		return fmt.Sprintf("%d minutes", mins)
	}
	return fmt.Sprintf("%d phút", mins)
}
