package login

import (
	"errors"
	"net/http"
	"slices"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// Mount registers the login pages.
func (e *Engine) Mount(mux *http.ServeMux) {
	forms := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /login/{txn}", e.show)
	mux.HandleFunc("GET /portal-logo/{txn}", e.serveLogo)
	mux.Handle("POST /login/{txn}", forms.Handler(http.HandlerFunc(e.submit)))
}

// loadTxn loads the transaction of the URL for the browser it is bound
// to, answering with an error page otherwise.
func (e *Engine) loadTxn(w http.ResponseWriter, r *http.Request) (*Txn, bool) {
	id := r.PathValue("txn")
	txn := new(Txn)
	err := session.ErrNotFound
	if len(id) < 64 {
		err = txnKind.Load(r.Context(), e.o.Sessions, id, txn)
	}
	if err != nil {
		e.o.Renderer.Gone(w, r, http.StatusNotFound, server.Locale(r, nil), "load login transaction", err)
		return nil, false
	}
	if !e.SameBrowser(r, txn.Browser) {
		e.o.Log.WarnContext(r.Context(), "login transaction used from another browser")
		e.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, txn.Request.UILocales), "err_other_browser")
		return nil, false
	}
	return txn, true
}

func (e *Engine) show(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	e.render(w, r, txn, http.StatusOK, "")
}

func (e *Engine) submit(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	if err := r.ParseForm(); err != nil {
		e.render(w, r, txn, http.StatusBadRequest, e.o.Renderer.T(lang, "err_form"))
		return
	}
	// "Back to the service": the portal is told the citizen did not log
	// in (or, from the unmet-level page, that the level is out of reach).
	if r.PostForm.Get("cancel") == "yes" {
		reason := ErrCancelled
		if txn.State == StateUnmet {
			reason = ErrUnmet
		}
		actor := citizenTarget(txn.CitizenID)
		if actor == "" {
			actor = "anonymous"
		}
		e.o.Audit.Record(ctx, audit.Event{Actor: actor, Action: "login.cancel", Outcome: "success",
			ClientIP: server.ClientIP(ctx), Target: citizenTarget(txn.CitizenID),
			Details: map[string]string{"client": txn.Request.ClientID, "step": string(txn.State)}})
		e.finish(w, r, txn, e.Session(r), nil, reason)
		return
	}
	if txn.State == StateUnmet {
		http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
		return
	}
	// A form from another step (back button, second tab) is shown the
	// current step; but the first factor's page may answer one of its
	// alternatives in place (passkey autofill).
	if step := State(r.PostForm.Get("step")); step != "" && step != txn.State {
		if r.PostForm.Get("use") != "" || !e.answersInPlace(r, txn, step) {
			http.Redirect(w, r, "/login/"+txn.ID, http.StatusSeeOther)
			return
		}
		txn.Chosen, txn.State = step, step
	}
	// "Use another way": any method the citizen has (the identifying ones
	// before anyone is identified).
	if use := State(r.PostForm.Get("use")); use != "" {
		if use != txn.State {
			offers, err := e.offers(ctx, txn)
			if err != nil {
				e.o.Log.ErrorContext(ctx, "login flow", "err", err)
				e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
				return
			}
			if _, ok := offers[string(use)]; ok {
				txn.Chosen, txn.State = use, use
				if o := offers[string(use)]; o.firstFactor() {
					txn.Chosen = ""
				}
			}
		}
		e.save(w, r, txn)
		return
	}
	if txn.State == StateRecovered {
		e.advance(w, r, txn, e.Session(r), nil)
		return
	}
	if txn.State == StateConsent {
		e.submitConsent(w, r, txn, lang)
		return
	}
	if m := e.method(txn.State); m != nil {
		e.submitMethod(w, r, txn, lang, m)
		return
	}
	e.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_txn_expired")
}

// answersInPlace reports whether the transaction stands at the first
// factor and step is an identifying method offered there that may be
// answered on its page.
func (e *Engine) answersInPlace(r *http.Request, txn *Txn, step State) bool {
	cur, m := e.method(txn.State), e.method(step)
	if cur == nil || m == nil || !inPlace(m) || !e.traits(r.Context(), cur).firstFactor() {
		return false
	}
	o := e.traits(r.Context(), m)
	return o.Available && o.Identifies
}

// submitMethod checks what the citizen presented to a method: the attempt
// is reserved with the throttle first, then the method verifies, then the
// flow goes on.
func (e *Engine) submitMethod(w http.ResponseWriter, r *http.Request, txn *Txn, lang string, m Method) {
	ctx := r.Context()
	ip := server.ClientIP(ctx)
	ev := audit.Event{Actor: "anonymous", Action: "login." + m.Name(), ClientIP: ip,
		Details: map[string]string{"client": txn.Request.ClientID}}
	// Who the attempt counts against (throttle.go).
	var attempts []attempt
	slow := ""
	switch c, claims := m.(Claimant); {
	case claims:
		number, err := c.Claim(r)
		var se *StepError
		if errors.As(err, &se) {
			e.render(w, r, txn, cmpStatus(se.Status), e.o.Renderer.T(lang, se.Message))
			return
		}
		txn.Number = number
		ev.Details["citizen_number"] = audit.MaskNumber(number)
		attempts, slow = passwordAttempts(number, ip, e.o.AccountThrottle, e.o.IPThrottle), accountKey(number)
	case txn.CitizenID != "":
		attempts = []attempt{secondFactorAttempt(txn.CitizenID, e.o.AccountThrottle)}
		ev.Actor, ev.Target = "citizen:"+txn.CitizenID, "citizen:"+txn.CitizenID
	default:
		attempts = []attempt{{key: session.ThrottleKey("ip", ip), policy: e.o.IPThrottle}}
	}
	if !e.reserve(w, r, txn, lang, ev, attempts) {
		return
	}
	giveBack := func() {
		e.giveBack(ctx, attempts)
		if slow != "" {
			e.o.Sessions.Release(ctx, slow)
		}
	}
	if slow != "" && !e.slowDown(ctx, slow) {
		e.giveBack(ctx, attempts)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	citizenID, got, err := m.Verify(ctx, r, txn)
	var se *StepError
	if errors.As(err, &se) {
		ev.Outcome, ev.Details["reason"] = "failure", se.Reason
		if se.CitizenID != "" {
			ev.Target = "citizen:" + se.CitizenID
		}
		e.o.Audit.Record(ctx, ev)
		if !se.Throttle {
			giveBack()
		}
		e.render(w, r, txn, cmpStatus(se.Status), e.o.Renderer.T(lang, se.Message))
		return
	} else if err != nil {
		// The server failed: not the citizen's fault, and no failure.
		giveBack()
		e.o.Log.ErrorContext(ctx, "login step", "method", m.Name(), "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	traits := e.traits(ctx, m)
	if txn.CitizenID != "" && citizenID != txn.CitizenID && !traits.firstFactor() {
		e.o.Log.ErrorContext(ctx, "login step authenticated another citizen", "method", m.Name())
		e.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_generic")
		return
	}
	citizen, err := e.o.Store.CitizenByID(ctx, citizenID)
	if err != nil {
		giveBack()
		e.o.Log.ErrorContext(ctx, "load citizen", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if citizen.Disabled {
		ev.Outcome, ev.Details["reason"], ev.Target = "failure", "account disabled", "citizen:"+citizenID
		e.o.Audit.Record(ctx, ev)
		e.render(w, r, txn, http.StatusUnauthorized, e.o.Renderer.T(lang, "err_disabled"))
		return
	}
	e.succeeded(ctx, attempts)
	if slow != "" {
		e.o.Sessions.Release(ctx, slow)
	}
	ev.Outcome, ev.Actor, ev.Target = "success", "citizen:"+citizenID, "citizen:"+citizenID
	e.o.Audit.Record(ctx, ev)

	if txn.CitizenID != citizenID {
		txn.Events, txn.Proven = nil, nil // another citizen's earlier steps do not count
		txn.CitizenID = citizenID
	}
	if !slices.Contains(txn.Proven, State(m.Name())) {
		txn.Proven = append(txn.Proven, State(m.Name()))
	}
	txn.Number = citizen.Number
	txn.FreshLogin = txn.FreshLogin || traits.firstFactor()
	if got.Method != "" {
		got.Time = e.o.Sessions.Now()
		txn.Events = append(txn.Events, got)
	}
	txn.Chosen = ""
	if traits.Recovery {
		txn.State = StateRecovered
		e.save(w, r, txn)
		return
	}
	e.advance(w, r, txn, e.Session(r), citizen)
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusUnauthorized
	}
	return s
}

// citizenTarget is the audit target of a transaction's citizen, if known.
func citizenTarget(id string) string {
	if id == "" {
		return ""
	}
	return "citizen:" + id
}
