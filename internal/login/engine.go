package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Protocol is a protocol that hands requests to the engine.
type Protocol interface {
	// Complete answers the protocol request with the citizen's session
	// and what it proves for this request (typically by redirecting back
	// to the portal).
	Complete(w http.ResponseWriter, r *http.Request, requestID string, sess *session.Session, res assurance.Result)
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
	Store    Store
	Sessions *session.Store
	Hasher   *password.Hasher
	// TOTP is the authenticator app; it is offered as a method, and its
	// recovery codes are handled by the engine.
	TOTP *totp.Authenticator
	// Methods are further authenticators (WebAuthn, certificate), in order
	// of preference.
	Methods      []Method
	Audit        *audit.Logger
	Renderer     *server.Renderer
	Log          *slog.Logger
	Cookie       CookieOptions
	LoginTimeout time.Duration
	Limits       assurance.Limits
	// AccountThrottle applies per citizen number and client address
	// (passwords) and per citizen (one-time codes); IPThrottle per client
	// address. Both refuse with a wait. AccountSlowdown applies per
	// citizen number from every address: it slows password checks and
	// never refuses, so nobody can lock a citizen out (throttle.go).
	AccountThrottle session.ThrottlePolicy
	IPThrottle      session.ThrottlePolicy
	AccountSlowdown session.ThrottlePolicy
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
	methods   []Method
	logout    []LogoutHook
}

// New returns an engine; protocols register with Register before serving.
// It panics on a method whose name is taken: that is a wiring mistake.
func New(o Options) *Engine {
	if o.Limits == nil {
		o.Limits = assurance.DefaultLimits()
	}
	e := &Engine{o: o, protocols: map[string]Protocol{}}
	if o.TOTP != nil {
		e.methods = append(e.methods, totpMethod{o.TOTP})
	}
	e.methods = append(e.methods, o.Methods...)
	seen := map[string]bool{string(StatePassword): true, string(StateRecovery): true, string(StateRecovered): true}
	for _, m := range e.methods {
		if seen[m.Name()] {
			panic("login: method name " + m.Name() + " is taken")
		}
		seen[m.Name()] = true
	}
	return e
}

func (e *Engine) method(name State) Method {
	for _, m := range e.methods {
		if m.Name() == string(name) {
			return m
		}
	}
	return nil
}

// offers asks every method what it can do for the citizen.
func (e *Engine) offers(ctx context.Context, citizenID string) (map[string]Offer, error) {
	out := make(map[string]Offer, len(e.methods))
	for _, m := range e.methods {
		o, err := m.Offer(ctx, citizenID)
		if err != nil {
			return nil, fmt.Errorf("%s offer: %w", m.Name(), err)
		}
		if o.Available {
			out[m.Name()] = o
		}
	}
	return out, nil
}

// Register makes a protocol known under name.
func (e *Engine) Register(name string, p Protocol) { e.protocols[name] = p }

// LogoutHook lets a protocol log the citizen out of the relying parties
// that took part in an SSO session that just ended. In the citizen's
// browser (then is where the browser goes afterwards) it returns where to
// send the browser now: a page of its own that logs out front-channel and
// ends at then, or then unchanged. Without a browser (then is empty, e.g.
// an administrator ended the session) it does what it can and returns "".
type LogoutHook func(ctx context.Context, ended *session.Session, then string) string

// OnLogout registers a logout hook; call it before serving.
func (e *Engine) OnLogout(h LogoutHook) { e.logout = append(e.logout, h) }

// AfterLogout runs the logout hooks for a session that ended and returns
// where to send the browser (then when there is nothing to do). Every
// place that ends a session calls it: OIDC end_session, the account page,
// the administrators' console (with then empty).
func (e *Engine) AfterLogout(ctx context.Context, ended *session.Session, then string) string {
	if ended == nil {
		return then
	}
	for _, h := range e.logout {
		then = h(ctx, ended, then)
	}
	return then
}

// Mount registers the login pages.
func (e *Engine) Mount(mux *http.ServeMux) {
	forms := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /login/{txn}", e.show)
	mux.Handle("POST /login/{txn}", forms.Handler(http.HandlerFunc(e.submit)))
}

// Session returns the live SSO session of the request, or nil. Reading it
// records activity, so levels whose idle limit lapsed before this request
// are first written down for good: activity must not revive them.
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
	if decayed, changed := e.decay(sess); changed {
		prev := sess.PrevSeen
		updated, err := e.o.Sessions.Update(r.Context(), sess, func(s *session.Session) error {
			s.Events = decayed
			return nil
		})
		if err != nil {
			e.o.Log.ErrorContext(r.Context(), "record level decay", "err", err)
			return nil
		}
		updated.PrevSeen = prev
		sess = updated
	}
	return sess
}

// decay lowers each event to the highest level whose idle limit had not
// lapsed at this request; a second factor that no longer raises anything
// above level 1 is dropped.
func (e *Engine) decay(sess *session.Session) ([]session.AuthEvent, bool) {
	last := sess.PrevSeen
	for _, ev := range sess.Events {
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	idle := e.o.Sessions.Now().Sub(last)
	out := make([]session.AuthEvent, 0, len(sess.Events))
	changed := false
	for _, ev := range sess.Events {
		level := 0
		for l := ev.Level; l >= 1; l-- {
			if lim := e.o.Limits[assurance.Level(l)]; lim.Idle == 0 || idle <= lim.Idle {
				level = l
				break
			}
		}
		if level < ev.Level {
			changed = true
			if level == 0 || (ev.SecondFactor && level < int(assurance.Substantial)) {
				continue
			}
			ev.Level = level
		}
		out = append(out, ev)
	}
	return out, changed
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

// Evaluate says what sess proves for req now.
func (e *Engine) Evaluate(sess *session.Session, req Request) assurance.Result {
	return e.evaluate(sess.Events, sess.PrevSeen, req)
}

func (e *Engine) evaluate(events []session.AuthEvent, prevSeen time.Time, req Request) assurance.Result {
	evs := make([]assurance.Event, len(events))
	last := prevSeen
	for i, ev := range events {
		evs[i] = assurance.Event{Method: ev.Method, AMR: ev.AMR, Level: assurance.Level(ev.Level), SecondFactor: ev.SecondFactor, Time: ev.Time}
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	now := e.o.Sessions.Now()
	maxAge := req.MaxAge
	if maxAge != nil && !req.Since.IsZero() {
		m := max(*maxAge, now.Sub(req.Since))
		maxAge = &m
	}
	return assurance.Evaluate(evs, last, assurance.Request{MinLevel: req.MinLevel, MaxAge: maxAge, ClientMaxAge: req.ClientMaxAge},
		e.o.Limits, now)
}

// citizenOK reports whether the session's citizen may still log in.
func (e *Engine) citizenOK(ctx context.Context, citizenID string) bool {
	c, err := e.o.Store.CitizenByID(ctx, citizenID)
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
	req.MinLevel = max(req.MinLevel, assurance.Low)
	sess := e.Session(r)
	if sess != nil && !e.citizenOK(r.Context(), sess.CitizenID) {
		sess = nil
	}
	if sess != nil {
		if res := e.Evaluate(sess, req); res.Satisfied {
			p.Complete(w, r, req.RequestID, sess, res)
			return
		}
	}
	if req.NoPrompt {
		if sess == nil {
			p.Fail(w, r, req.RequestID, ErrLoginRequired)
		} else {
			p.Fail(w, r, req.RequestID, ErrInteractionRequired)
		}
		return
	}
	txn := &Txn{
		ID:        session.RandomToken(24),
		Request:   req,
		Browser:   e.Browser(w, r),
		CreatedAt: e.o.Sessions.Now(),
	}
	if ValidCitizenNumber(req.LoginHint) {
		txn.Number = req.LoginHint
	}
	if sess != nil {
		txn.CitizenID = sess.CitizenID
		if c, err := e.o.Store.CitizenByID(r.Context(), sess.CitizenID); err == nil {
			txn.Number = c.Number
		}
	}
	e.advance(w, r, txn, sess)
}

// advance is the dispatcher: from what the session and the transaction
// prove, it decides the next state and saves the transaction, or finishes.
func (e *Engine) advance(w http.ResponseWriter, r *http.Request, txn *Txn, sess *session.Session) {
	ctx := r.Context()
	next, done, err := e.next(ctx, txn, sess)
	if errors.Is(err, ErrUnmet) && txn.Events == nil {
		e.fail(w, r, txn, ErrUnmet)
		return
	} else if err != nil && !errors.Is(err, ErrUnmet) {
		e.o.Log.ErrorContext(ctx, "login flow", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
		return
	}
	if done || errors.Is(err, ErrUnmet) {
		e.finish(w, r, txn, sess)
		return
	}
	txn.State = next
	if err := e.o.Sessions.Put(ctx, txnKind, txn.ID, txn, e.o.LoginTimeout); err != nil {
		e.o.Log.ErrorContext(ctx, "store login transaction", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
		return
	}
	http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
}

// events are the session's events of the transaction's citizen plus the
// transaction's own.
func (e *Engine) events(txn *Txn, sess *session.Session) ([]session.AuthEvent, time.Time) {
	var evs []session.AuthEvent
	var prev time.Time
	if sess != nil && sess.CitizenID == txn.CitizenID {
		evs = append(evs, sess.Events...)
		prev = sess.PrevSeen
	}
	return append(evs, txn.Events...), prev
}

// next decides the next state. done means nothing more can or need be
// asked; ErrUnmet means the level cannot be reached by this citizen.
func (e *Engine) next(ctx context.Context, txn *Txn, sess *session.Session) (State, bool, error) {
	if txn.State == StateRecovered {
		return "", true, nil
	}
	if txn.CitizenID == "" {
		if m := e.method(txn.Chosen); m != nil {
			return State(m.Name()), false, nil
		}
		return StatePassword, false, nil
	}
	evs, prev := e.events(txn, sess)
	res := e.evaluate(evs, prev, txn.Request)
	offers, err := e.offers(ctx, txn.CitizenID)
	if err != nil {
		return "", false, err
	}
	if res.Satisfied {
		// A fresh login of a citizen with a second factor asks for it: any
		// method that reaches level 2 (an app, a passkey).
		if txn.FreshLogin && res.Level < assurance.Substantial && !e.skipsSecondFactor(ctx, txn.CitizenID) {
			if m := e.pick(offers, txn.Chosen, func(o Offer) bool { return o.Level >= assurance.Substantial }); m != "" {
				return m, false, nil
			}
		}
		return "", true, nil
	}
	want := txn.Request.MinLevel
	firstFresh := !res.NeedFirstFactor && want <= assurance.Substantial
	// A second factor that completes the level now.
	if firstFresh {
		if m := e.pick(offers, txn.Chosen, func(o Offer) bool { return o.SecondFactor && o.Level >= want }); m != "" {
			return m, false, nil
		}
	}
	// A method that reaches the level alone (a device-bound passkey, a certificate).
	if m := e.pick(offers, txn.Chosen, func(o Offer) bool { return !o.SecondFactor && o.Level >= want }); m != "" {
		return m, false, nil
	}
	// The password, then a second factor.
	if !firstFresh && want <= assurance.Substantial {
		if m := e.pick(offers, "", func(o Offer) bool { return o.SecondFactor && o.Level >= want }); m != "" || want == assurance.Low {
			return StatePassword, false, nil
		}
	}
	return "", false, ErrUnmet
}

// pick returns the chosen method if it fits, else the first that fits.
func (e *Engine) pick(offers map[string]Offer, chosen State, fits func(Offer) bool) State {
	if o, ok := offers[string(chosen)]; ok && fits(o) {
		return chosen
	}
	for _, m := range e.methods {
		if o, ok := offers[m.Name()]; ok && fits(o) {
			return State(m.Name())
		}
	}
	return ""
}

func (e *Engine) skipsSecondFactor(ctx context.Context, citizenID string) bool {
	c, err := e.o.Store.CitizenByID(ctx, citizenID)
	return err == nil && c.SkipSecondFactor
}

func (e *Engine) fail(w http.ResponseWriter, r *http.Request, txn *Txn, reason error) {
	p, ok := e.protocols[txn.Request.Protocol]
	if !ok {
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, server.Locale(r, nil), "err_generic")
		return
	}
	e.o.Sessions.DeleteValue(r.Context(), txnKind, txn.ID)
	p.Fail(w, r, txn.Request.RequestID, reason)
}

func (e *Engine) loadTxn(w http.ResponseWriter, r *http.Request) (*Txn, bool) {
	id := r.PathValue("txn")
	txn := new(Txn)
	if len(id) < 64 {
		err := e.o.Sessions.GetValue(r.Context(), txnKind, id, txn)
		if err == nil && !e.SameBrowser(r, txn.Browser) {
			e.o.Log.WarnContext(r.Context(), "login transaction used from another browser")
			e.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, txn.Request.UILocales), "err_other_browser")
			return nil, false
		}
		if err == nil {
			return txn, true
		}
		if !errors.Is(err, session.ErrNotFound) {
			e.o.Log.ErrorContext(r.Context(), "load login transaction", "err", err)
		}
	}
	e.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "err_txn_expired")
	return nil, false
}

func (e *Engine) show(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	e.render(w, r, txn, http.StatusOK, "")
}

// StepPage is the view model of the login pages.
type StepPage struct {
	Action     string
	Step       State
	ClientName string
	Number     string
	Error      string
	// Method is what the step's Method prepared (a challenge, a nonce).
	Method any
	// Others are other ways the citizen may use for this step.
	Others []Alternative
}

// Alternative is another way to log in, offered on a step's page.
type Alternative struct {
	Name  string // method name, posted as use=<Name>
	Label string // catalogue key method_<Name>
	// Data is what an InPlace method prepared, so the password page can
	// use it there (a passkey challenge for autofill); nil otherwise.
	Data any
}

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

func (e *Engine) render(w http.ResponseWriter, r *http.Request, txn *Txn, status int, errMsg string) {
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	page, title := "login", "login_title"
	switch txn.State {
	case StateRecovery:
		page, title = "login_recovery", "recovery_title"
	case StateRecovered:
		page, title = "login_recovered", "recovered_title"
	case StatePassword, "":
	default:
		page, title = "login_"+string(txn.State), "method_"+string(txn.State)+"_title"
	}
	pg := StepPage{
		Action:     "/login/" + txn.ID,
		Step:       txn.State,
		ClientName: txn.Request.ClientName,
		Number:     txn.Number,
		Error:      errMsg,
	}
	if m := e.method(txn.State); m != nil {
		data, err := m.Prepare(ctx, r, txn)
		if err != nil {
			e.o.Log.ErrorContext(ctx, "prepare login step", "method", m.Name(), "err", err)
			e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
			return
		}
		pg.Method = data
	}
	pg.Others = e.alternatives(r, txn)
	e.o.Renderer.Render(w, r, status, page, lang, title, pg)
}

// alternatives are the other methods the citizen may use at this step: on
// the password page, the methods that identify a citizen by themselves.
func (e *Engine) alternatives(r *http.Request, txn *Txn) []Alternative {
	if txn.State != StatePassword {
		return nil
	}
	ctx := r.Context()
	var out []Alternative
	for _, m := range e.methods {
		if o, err := m.Offer(ctx, ""); err == nil && o.Available && o.Identifies {
			alt := Alternative{Name: m.Name(), Label: "method_" + m.Name()}
			if inPlace(m) {
				data, err := m.Prepare(ctx, r, txn)
				if err != nil {
					e.o.Log.ErrorContext(ctx, "prepare login alternative", "method", m.Name(), "err", err)
				} else {
					alt.Data = data
				}
			}
			out = append(out, alt)
		}
	}
	return out
}

// answersInPlace reports whether name is a method offered on the password
// page that may be answered there.
func (e *Engine) answersInPlace(ctx context.Context, name State) bool {
	m := e.method(name)
	if m == nil || !inPlace(m) {
		return false
	}
	o, err := m.Offer(ctx, "")
	return err == nil && o.Available && o.Identifies
}

func (e *Engine) submit(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	lang := server.Locale(r, txn.Request.UILocales)
	if err := r.ParseForm(); err != nil {
		e.render(w, r, txn, http.StatusBadRequest, e.o.Renderer.T(lang, "err_form"))
		return
	}
	// A form from another step (back button, second tab) is shown the
	// current step; but the password page may answer one of its
	// alternatives in place (passkey autofill).
	if step := State(r.PostForm.Get("step")); step != "" && step != txn.State {
		if txn.State != StatePassword || r.PostForm.Get("use") != "" || !e.answersInPlace(r.Context(), step) {
			http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
			return
		}
		txn.Chosen, txn.State = step, step
	}
	// "Use another way": a recovery code instead of the app, or a method
	// offered on the password page.
	if use := State(r.PostForm.Get("use")); use != "" {
		switch {
		case use == StateRecovery && txn.State == StateTOTP:
			txn.State = StateRecovery
		case use == StatePassword && txn.Chosen != "" && txn.State == txn.Chosen:
			txn.Chosen, txn.State = "", StatePassword
		case txn.State == StatePassword && e.method(use) != nil:
			txn.Chosen = use
			txn.State = use
		}
		e.save(w, r, txn)
		return
	}
	switch txn.State {
	case StatePassword:
		e.submitPassword(w, r, txn, lang)
	case StateRecovery:
		e.submitRecovery(w, r, txn, lang)
	case StateRecovered:
		e.advance(w, r, txn, e.Session(r))
	default:
		if m := e.method(txn.State); m != nil {
			e.submitMethod(w, r, txn, lang, m)
			return
		}
		e.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_txn_expired")
	}
}

func (e *Engine) save(w http.ResponseWriter, r *http.Request, txn *Txn) {
	if err := e.o.Sessions.Put(r.Context(), txnKind, txn.ID, txn, e.o.LoginTimeout); err != nil {
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
		return
	}
	http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
}

func (e *Engine) submitPassword(w http.ResponseWriter, r *http.Request, txn *Txn, lang string) {
	form, problem := parsePasswordForm(r.PostForm)
	if problem == "err_number_format" || problem == "err_form" {
		e.render(w, r, txn, http.StatusBadRequest, e.o.Renderer.T(lang, problem))
		return
	}
	ctx := r.Context()
	ip := server.ClientIP(ctx)
	ev := audit.Event{Actor: "anonymous", Action: "login.password", ClientIP: ip,
		Details: map[string]string{"citizen_number": audit.MaskNumber(form.Number), "client": txn.Request.ClientID}}
	txn.Number = form.Number

	// Throttling, reserved before any hashing (throttle.go).
	attempts := passwordAttempts(form.Number, ip, e.o.AccountThrottle, e.o.IPThrottle)
	if !e.reserve(w, r, txn, lang, ev, attempts) {
		return
	}
	if !e.slowDown(ctx, accountKey(form.Number)) {
		e.giveBack(ctx, attempts)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	citizen, err := e.check(ctx, form, problem)
	if err != nil && !isRefusal(err) {
		// The store failed: not the citizen's fault, and no failure.
		e.o.Log.ErrorContext(ctx, "check password", "err", err)
		e.giveBack(ctx, attempts)
		e.o.Sessions.Release(ctx, accountKey(form.Number))
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if err != nil {
		ev.Outcome, ev.Details["reason"] = "failure", err.Error()
		if citizen != nil {
			ev.Target = "citizen:" + citizen.ID
		}
		e.o.Audit.Record(ctx, ev)
		msg := "err_credentials"
		if errors.Is(err, errDisabled) {
			msg = "err_disabled"
		}
		e.render(w, r, txn, http.StatusUnauthorized, e.o.Renderer.T(lang, msg))
		return
	}
	e.succeeded(ctx, attempts)
	e.o.Sessions.Release(ctx, accountKey(form.Number))
	ev.Outcome, ev.Actor, ev.Target = "success", "citizen:"+citizen.ID, "citizen:"+citizen.ID
	e.o.Audit.Record(ctx, ev)

	if txn.CitizenID != citizen.ID {
		txn.Events = nil // another citizen's earlier steps do not count
	}
	txn.CitizenID = citizen.ID
	txn.FreshLogin = true
	txn.Events = append(txn.Events, session.AuthEvent{Method: assurance.AMRPassword, AMR: []string{assurance.AMRPassword},
		Level: int(assurance.Low), Time: e.o.Sessions.Now()})
	e.advance(w, r, txn, e.Session(r))
}

// submitMethod checks what the citizen presented to a method.
func (e *Engine) submitMethod(w http.ResponseWriter, r *http.Request, txn *Txn, lang string, m Method) {
	ctx := r.Context()
	ev := audit.Event{Actor: "anonymous", Action: "login." + m.Name(), ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"client": txn.Request.ClientID}}
	// A second factor is throttled per citizen; a method that identifies
	// the citizen by itself, per address.
	attempts := []attempt{{key: session.ThrottleKey("ip", server.ClientIP(ctx)), policy: e.o.IPThrottle}}
	if txn.CitizenID != "" {
		attempts = []attempt{secondFactorAttempt(txn.CitizenID, e.o.AccountThrottle)}
		ev.Actor, ev.Target = "citizen:"+txn.CitizenID, "citizen:"+txn.CitizenID
	}
	if !e.reserve(w, r, txn, lang, ev, attempts) {
		return
	}
	citizenID, got, err := m.Verify(ctx, r, txn)
	var se *StepError
	if errors.As(err, &se) {
		ev.Outcome, ev.Details["reason"] = "failure", se.Reason
		e.o.Audit.Record(ctx, ev)
		if !se.Throttle {
			e.giveBack(ctx, attempts)
		}
		e.render(w, r, txn, http.StatusUnauthorized, e.o.Renderer.T(lang, se.Message))
		return
	} else if err != nil {
		e.giveBack(ctx, attempts)
		e.o.Log.ErrorContext(ctx, "login step", "method", m.Name(), "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if txn.CitizenID != "" && citizenID != txn.CitizenID {
		e.o.Log.ErrorContext(ctx, "login step authenticated another citizen", "method", m.Name())
		e.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_generic")
		return
	}
	if !e.citizenOK(ctx, citizenID) {
		ev.Outcome, ev.Details["reason"] = "failure", "account disabled"
		e.o.Audit.Record(ctx, ev)
		e.render(w, r, txn, http.StatusUnauthorized, e.o.Renderer.T(lang, "err_disabled"))
		return
	}
	e.succeeded(ctx, attempts)
	ev.Outcome, ev.Actor, ev.Target = "success", "citizen:"+citizenID, "citizen:"+citizenID
	e.o.Audit.Record(ctx, ev)
	if txn.CitizenID == "" {
		txn.CitizenID = citizenID
		if c, err := e.o.Store.CitizenByID(ctx, citizenID); err == nil {
			txn.Number = c.Number
		}
	}
	got.Time = e.o.Sessions.Now()
	txn.Events = append(txn.Events, got)
	txn.Chosen = ""
	e.advance(w, r, txn, e.Session(r))
}

// submitRecovery checks a recovery code: it restores access at level 1
// only (the password's event alone carries the level; the code adds none)
// and forces the citizen to set up a new authenticator: the old one is removed.
func (e *Engine) submitRecovery(w http.ResponseWriter, r *http.Request, txn *Txn, lang string) {
	ctx := r.Context()
	if len(r.PostForm["code"]) != 1 {
		e.render(w, r, txn, http.StatusBadRequest, e.o.Renderer.T(lang, "err_form"))
		return
	}
	ev := audit.Event{Actor: "citizen:" + txn.CitizenID, Action: "login.recovery", Target: "citizen:" + txn.CitizenID,
		ClientIP: server.ClientIP(ctx), Details: map[string]string{"client": txn.Request.ClientID}}
	attempts := []attempt{secondFactorAttempt(txn.CitizenID, e.o.AccountThrottle)}
	if !e.reserve(w, r, txn, lang, ev, attempts) {
		return
	}
	err := e.o.TOTP.UseRecoveryCode(ctx, txn.CitizenID, r.PostForm.Get("code"))
	if err != nil {
		ev.Outcome, ev.Details["reason"] = "failure", err.Error()
		e.o.Audit.Record(ctx, ev)
		if !errors.Is(err, totp.ErrInvalidCode) && !errors.Is(err, totp.ErrNotEnrolled) {
			e.giveBack(ctx, attempts)
			e.o.Log.ErrorContext(ctx, "check recovery code", "err", err)
			e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
			return
		}
		e.render(w, r, txn, http.StatusUnauthorized, e.o.Renderer.T(lang, "err_code"))
		return
	}
	e.succeeded(ctx, attempts)
	ev.Outcome = "success"
	e.o.Audit.Record(ctx, ev)
	if err := e.o.TOTP.Remove(ctx, txn.CitizenID); err != nil {
		e.o.Log.ErrorContext(ctx, "remove authenticator after recovery", "err", err)
	}
	e.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + txn.CitizenID, Action: "totp.remove", Target: "citizen:" + txn.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"reason": "recovery code used"}})
	txn.State = StateRecovered
	e.save(w, r, txn)
}

var (
	errUnknown    = errors.New("unknown citizen")
	errPassword   = errors.New("wrong password")
	errDisabled   = errors.New("account disabled")
	errNoPassword = errors.New("no password set")
)

// isRefusal reports whether err from check is a refusal of what the
// citizen typed, rather than a failure of the server.
func isRefusal(err error) bool {
	return errors.Is(err, errUnknown) || errors.Is(err, errPassword) || errors.Is(err, errDisabled) || errors.Is(err, errNoPassword)
}

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
		return c, errNoPassword
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

// finish turns the transaction into an SSO session and hands it back to the
// protocol. A session of the same citizen is extended, never replaced, so
// step-up keeps it; any other session in this browser is ended.
func (e *Engine) finish(w http.ResponseWriter, r *http.Request, txn *Txn, sess *session.Session) {
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	// Single use: whoever deletes the transaction first completes it. A
	// transaction that was never stored (Begin went straight here) has
	// nothing to take.
	if txn.State != "" {
		var taken Txn
		if err := e.o.Sessions.Take(ctx, txnKind, txn.ID, &taken); err != nil {
			e.o.Renderer.Error(w, r, http.StatusConflict, lang, "err_txn_expired")
			return
		}
	}
	var out *session.Session
	if sess != nil && sess.CitizenID == txn.CitizenID {
		updated, err := e.o.Sessions.Update(ctx, sess, func(s *session.Session) error {
			s.Events = mergeEvents(s.Events, txn.Events)
			return nil
		})
		if err == nil {
			out = updated
		} else {
			e.o.Log.WarnContext(ctx, "extend session failed, starting a new one", "err", err)
		}
	}
	if out == nil {
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
		out = created
	}
	p, ok := e.protocols[txn.Request.Protocol]
	if !ok {
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, lang, "err_generic")
		return
	}
	res := e.Evaluate(out, txn.Request)
	if !res.Satisfied {
		p.Fail(w, r, txn.Request.RequestID, ErrUnmet)
		return
	}
	p.Complete(w, r, txn.Request.RequestID, out, res)
}

// mergeEvents appends new events, keeping only the latest event of each
// method so a long session does not grow without bound.
func mergeEvents(old, add []session.AuthEvent) []session.AuthEvent {
	out := slices.Clone(old)
	for _, ev := range add {
		out = slices.DeleteFunc(out, func(o session.AuthEvent) bool { return o.Method == ev.Method })
		out = append(out, ev)
	}
	return out
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
