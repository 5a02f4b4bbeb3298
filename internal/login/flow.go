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
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Protocol is a protocol that hands requests to the engine.
type Protocol interface {
	// Complete answers the protocol request with the citizen's session
	// and what it proves for this request (typically by redirecting back
	// to the portal).
	Complete(w http.ResponseWriter, r *http.Request, requestID string, c Completion)
	// Fail answers the protocol request with a standard error; reason is
	// one of the Err* values of this package.
	Fail(w http.ResponseWriter, r *http.Request, requestID string, reason error)
}

// Store is the slice of storage the engine needs.
type Store interface {
	CitizenByID(ctx context.Context, id string) (*store.Citizen, error)
	ActiveConsent(ctx context.Context, citizenID, portal string) (*store.Consent, error)
	GrantConsent(ctx context.Context, c *store.Consent) error
}

// Options configures the engine.
type Options struct {
	Store    Store
	Sessions *session.Store
	// Methods are the authenticators, in order of preference: the
	// password, the authenticator app and its recovery codes, passkeys,
	// certificates.
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
	// Registration: the login page links to /register.
	Registration bool
	// HTTPClient fetches portals' logos (logo.go); a plain client when nil.
	HTTPClient *http.Client
}

// Engine runs logins: the flow (this file), its pages (handlers.go,
// render.go) and the SSO session (sso.go, embedded).
type Engine struct {
	*SSO
	o         Options
	protocols map[string]Protocol
	methods   []Method
	logout    []LogoutHook
	logos     *logoCache
}

// New returns an engine; protocols register with Register before serving.
// It panics on a method whose name is taken: that is a wiring mistake.
func New(o Options) *Engine {
	if o.Limits == nil {
		o.Limits = assurance.DefaultLimits()
	}
	e := &Engine{o: o, protocols: map[string]Protocol{}, methods: o.Methods,
		SSO:   &SSO{sessions: o.Sessions, cookie: o.Cookie, limits: o.Limits, log: o.Log},
		logos: newLogoCache(o.HTTPClient, o.Sessions.Now)}
	seen := map[string]bool{string(StateRecovered): true, string(StateConsent): true, string(StateUnmet): true}
	for _, m := range e.methods {
		if seen[m.Name()] {
			panic("login: method name " + m.Name() + " is taken")
		}
		seen[m.Name()] = true
	}
	return e
}

// Register makes a protocol known under name.
func (e *Engine) Register(name string, p Protocol) { e.protocols[name] = p }

// CheckProtocols reports an error naming every protocol of names that
// nothing registered: the composition root calls it once everything is
// wired, so a missing one fails the start, not a request.
func (e *Engine) CheckProtocols(names ...string) error {
	var errs []error
	for _, n := range names {
		if e.protocols[n] == nil {
			errs = append(errs, fmt.Errorf("login: no protocol %q registered", n))
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) method(name State) Method {
	for _, m := range e.methods {
		if m.Name() == string(name) {
			return m
		}
	}
	return nil
}

// traits are what a method is, whoever the citizen: its offer to nobody.
func (e *Engine) traits(ctx context.Context, m Method) Offer {
	o, err := m.Offer(ctx, "")
	if err != nil {
		return Offer{}
	}
	return o
}

// offers asks every method what it can do for the citizen (the
// identifying methods only, when citizenID is empty) of txn, except one
// that UseProves and that the citizen used in txn: its offer is its
// traits.
func (e *Engine) offers(ctx context.Context, txn *Txn) (map[string]Offer, error) {
	citizenID := txn.CitizenID
	out := make(map[string]Offer, len(e.methods))
	for _, m := range e.methods {
		who := citizenID
		if _, ok := m.(UseProves); ok && slices.Contains(txn.Proven, State(m.Name())) {
			who = ""
		}
		o, err := m.Offer(ctx, who)
		if err != nil {
			return nil, fmt.Errorf("%s offer: %w", m.Name(), err)
		}
		if o.Available && (citizenID != "" || o.Identifies) {
			out[m.Name()] = o
		}
	}
	return out, nil
}

func (e *Engine) order() []string {
	out := make([]string, len(e.methods))
	for i, m := range e.methods {
		out[i] = m.Name()
	}
	return out
}

// sessionCitizen returns the request's session and its citizen, or nils
// when there is no session or its citizen may not log in.
// An error is a failure to read them (not their absence).
func (e *Engine) sessionCitizen(r *http.Request) (*session.Session, *store.Citizen, error) {
	sess, err := e.Current(r)
	if sess == nil || err != nil {
		return nil, nil, err
	}
	c, err := e.o.Store.CitizenByID(r.Context(), sess.CitizenID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if c.Disabled {
		return nil, nil, nil
	}
	return sess, c, nil
}

// Unavailable answers a request the server cannot serve now (Redis or
// the database failing): 503 with Retry-After, never a login page or a
// "wrong password".
func (e *Engine) Unavailable(w http.ResponseWriter, r *http.Request, lang string) {
	e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_unavailable")
}

// Begin starts or short-cuts a login for a protocol request.
func (e *Engine) Begin(w http.ResponseWriter, r *http.Request, req Request) {
	if _, ok := e.protocols[req.Protocol]; !ok {
		e.o.Log.ErrorContext(r.Context(), "unknown protocol", "protocol", req.Protocol)
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, server.Locale(r, req.UILocales), "err_generic")
		return
	}
	req.MinLevel = max(req.MinLevel, assurance.Low)
	sess, citizen, err := e.sessionCitizen(r)
	if err != nil {
		e.Unavailable(w, r, server.Locale(r, req.UILocales))
		return
	}
	txn := &Txn{Request: req, CreatedAt: e.o.Sessions.Now()}
	if ValidCitizenNumber(req.LoginHint) {
		txn.Number = req.LoginHint
	}
	if citizen != nil {
		txn.CitizenID, txn.Number = citizen.ID, citizen.Number
	}
	e.advance(w, r, txn, sess, citizen)
}

// advance is the dispatcher: it loads the facts of the request once, asks
// decide for the next step and acts: save the transaction and show the
// step, or finish.
func (e *Engine) advance(w http.ResponseWriter, r *http.Request, txn *Txn, sess *session.Session, citizen *store.Citizen) {
	ctx := r.Context()
	f, citizen, err := e.facts(ctx, txn, sess, citizen)
	if err != nil {
		e.o.Log.ErrorContext(ctx, "login flow", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
		return
	}
	d := decide(f)
	if d.Finish && errors.Is(d.Fail, ErrUnmet) && !txn.Request.NoPrompt {
		// Explain what the portal needs before answering it. What the
		// citizen proved is theirs already: the page's link to set up a
		// stronger way in must not ask for it again.
		if len(txn.Events) > 0 {
			if _, err := e.record(ctx, w, r, txn.CitizenID, txn.Events, sess); err != nil {
				e.o.Log.ErrorContext(ctx, "record session", "err", err)
				e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
				return
			}
			txn.Events = nil
		}
		txn.State = StateUnmet
		e.save(w, r, txn)
		return
	}
	if d.Finish {
		e.finish(w, r, txn, sess, citizen, d.Fail)
		return
	}
	txn.State = d.Next
	e.save(w, r, txn)
}

// facts loads what decide needs: the citizen (unless given), what the
// events prove, whether a consent covers the release, and the methods'
// offers unless decide is settled without them.
func (e *Engine) facts(ctx context.Context, txn *Txn, sess *session.Session, citizen *store.Citizen) (facts, *store.Citizen, error) {
	f := facts{Request: txn.Request, State: txn.State, Chosen: txn.Chosen, Known: txn.CitizenID != "",
		FreshLogin: txn.FreshLogin, Order: e.order(), Consented: txn.Consented}
	if f.Known && (citizen == nil || citizen.ID != txn.CitizenID) {
		c, err := e.o.Store.CitizenByID(ctx, txn.CitizenID)
		if err != nil {
			return f, nil, fmt.Errorf("load citizen: %w", err)
		}
		citizen = c
	}
	if citizen != nil {
		f.SkipSecondFactor = citizen.SkipSecondFactor
	}
	var events []session.AuthEvent
	var prev time.Time
	if sess != nil && f.Known && sess.CitizenID == txn.CitizenID {
		f.HasSession = true
		events, prev = append(events, sess.Events...), sess.PrevSeen
	}
	f.Result = e.evaluate(append(events, txn.Events...), prev, txn.Request)
	if f.Known && len(txn.Request.Attributes) > 0 && !txn.Consented {
		var err error
		if f.ConsentCovered, err = e.consentCovers(ctx, txn.CitizenID, txn.Request); err != nil {
			return f, nil, err
		}
	}
	if _, ok := settled(f); !ok {
		offers, err := e.offers(ctx, txn)
		if err != nil {
			return f, nil, err
		}
		f.Offers = offers
	}
	return f, citizen, nil
}

// finish ends the transaction (single use: whoever takes it first
// completes it), records its events in the browser's session, and answers
// the protocol: Complete, or Fail with reason.
func (e *Engine) finish(w http.ResponseWriter, r *http.Request, txn *Txn, sess *session.Session, citizen *store.Citizen, reason error) {
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	if txn.ID != "" {
		var taken Txn
		if err := txnKind.TakeDropping(ctx, e.o.Sessions, txn.ID, &taken, e.discards(txn.ID)...); err != nil {
			e.o.Renderer.Gone(w, r, http.StatusConflict, lang, "take login transaction", err) // not found: another request finished it
			return
		}
	}
	p, ok := e.protocols[txn.Request.Protocol]
	if !ok {
		e.o.Renderer.Error(w, r, http.StatusInternalServerError, lang, "err_generic")
		return
	}
	out := sess
	if len(txn.Events) > 0 {
		recorded, err := e.record(ctx, w, r, txn.CitizenID, txn.Events, sess)
		if err != nil {
			e.o.Log.ErrorContext(ctx, "record session", "err", err)
			e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
			return
		}
		out = recorded
	}
	if reason != nil {
		p.Fail(w, r, txn.Request.RequestID, reason)
		return
	}
	res := e.Evaluate(out, txn.Request)
	if !res.Satisfied || citizen == nil {
		p.Fail(w, r, txn.Request.RequestID, ErrUnmet)
		return
	}
	p.Complete(w, r, txn.Request.RequestID, Completion{Session: out, Citizen: citizen, Result: res})
}

var txnKind = session.NewBucket[Txn]("lt")

// discards is what every Discarder kept for the transaction txnID.
func (e *Engine) discards(txnID string) []session.Ref {
	var refs []session.Ref
	for _, m := range e.methods {
		if d, ok := m.(Discarder); ok {
			refs = append(refs, d.Discards(txnID)...)
		}
	}
	return refs
}

// save stores the transaction (bound to this browser) and shows its step.
//
// After a form (a POST) the step is shown at the transaction's URL, by a
// redirect, so that reloading the page shows it again instead of posting
// the form twice. A login that begins with a GET (the portal's redirect
// to /authorize, a SAML request by the redirect binding) shows its first
// step in that response: a reload begins a fresh login, which is what a
// GET of those URLs means, and a citizen on a phone waits for one round
// trip fewer. The page's forms post to the transaction's URL either way.
func (e *Engine) save(w http.ResponseWriter, r *http.Request, txn *Txn) {
	if txn.ID == "" {
		txn.ID = session.RandomToken(24)
	}
	if txn.Browser == "" {
		txn.Browser = e.Browser(w, r)
	}
	if err := txnKind.Put(r.Context(), e.o.Sessions, txn.ID, *txn, e.o.LoginTimeout); err != nil {
		e.o.Log.ErrorContext(r.Context(), "store login transaction", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, txn.Request.UILocales), "err_generic")
		return
	}
	if r.Method == http.MethodGet {
		e.render(w, r, txn, http.StatusOK, "")
		return
	}
	http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
}
