package login

import (
	"context"
	"fmt"
	"html/template"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"

	"github.com/citizenid/citizenid/internal/server"
)

// StepPage is the view model of the login pages.
type StepPage struct {
	Action string
	TxnID  string
	// Register: the page links to /register (registration is on).
	Register   bool
	Step       State
	ClientName string
	Number     string
	Error      string
	// Method is what the step's Method prepared (a challenge, a nonce).
	Method any
	// Others are other ways the citizen may use for this step.
	Others []Alternative
	// Consent is what the consent step shows (StateConsent only).
	Consent *ConsentView
	// Reason says why this login is asked for: the portal's level, or
	// the account action that needs it; "" when there is nothing to add.
	Reason string
	// Logo is the portal's logo: an inline data: image, or the path of
	// the server's cached copy (logo.go); "" when there is none.
	Logo template.URL
	// Back labels the button that leaves the login without logging in
	// (cancel=yes): back to the portal, or to the account.
	Back string
	// Unmet is what the unmet-level page explains (StateUnmet only).
	Unmet *UnmetView
}

// UnmetView is what the unmet-level page explains: the level the request
// needs and the catalogue keys of how a citizen gets there.
type UnmetView struct {
	Level int
	Need  string // catalogue key: what the level needs
	How   string // catalogue key: how to get it
}

// Alternative is another way to log in, offered on a step's page.
type Alternative struct {
	Name  string // method name, posted as use=<Name>
	Label string // catalogue key method_<Name>
	// Data is what an InPlace method prepared, so the password page can
	// use it there (a passkey challenge for autofill); nil otherwise.
	Data any
}

// page is the template and title key of a state's page.
func page(state State, m Method) (string, string) {
	if p, ok := m.(Paged); ok {
		return p.Page()
	}
	switch state {
	case StateUnmet:
		return "login_unmet", "unmet_title"
	case StateRecovered:
		return "login_recovered", "recovered_title"
	case StateConsent:
		return "login_consent", "consent_title"
	}
	return "login_" + string(state), "method_" + string(state) + "_title"
}

func (e *Engine) render(w http.ResponseWriter, r *http.Request, txn *Txn, status int, errMsg string) {
	ctx := r.Context()
	lang := server.Locale(r, txn.Request.UILocales)
	m := e.method(txn.State)
	tmpl, title := page(txn.State, m)
	pg := StepPage{
		Action:     "/login/" + txn.ID,
		TxnID:      txn.ID,
		Register:   e.o.Registration,
		Step:       txn.State,
		ClientName: txn.Request.ClientName,
		Number:     txn.Number,
		Error:      errMsg,
		Reason:     e.reason(lang, txn.Request),
		Logo:       e.logo(txn),
		Back:       "back_to_service",
	}
	if txn.Request.ClientID == "" {
		pg.Back = "back_to_account"
	}
	switch txn.State {
	case StateConsent:
		pg.Consent = e.consentView(lang, txn.Request)
	case StateUnmet:
		pg.Unmet = unmetView(txn.Request.MinLevel)
	}
	if m != nil {
		data, err := m.Prepare(ctx, r, txn)
		if err != nil {
			e.o.Log.ErrorContext(ctx, "prepare login step", "method", m.Name(), "err", err)
			e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
			return
		}
		pg.Method = data
		pg.Others = e.alternatives(r, txn, m)
	}
	e.o.Renderer.Render(w, r, status, tmpl, lang, title, pg)
}

// reason says in lang why the citizen is asked to log in: the account
// action's purpose, or the portal and the level it needs above the first.
func (e *Engine) reason(lang string, req Request) string {
	if req.Purpose != "" {
		return e.o.Renderer.T(lang, req.Purpose)
	}
	if req.MinLevel <= assurance.Low || req.ClientName == "" {
		return ""
	}
	return fmt.Sprintf(e.o.Renderer.T(lang, "reason_portal_level"), req.ClientName,
		e.o.Renderer.T(lang, fmt.Sprintf("level_name_%d", req.MinLevel)), int(req.MinLevel))
}

// unmetView explains what level needs and how to get it.
func unmetView(level assurance.Level) *UnmetView {
	level = min(max(level, assurance.Substantial), assurance.VeryHigh)
	return &UnmetView{Level: int(level),
		Need: fmt.Sprintf("unmet_need_%d", level), How: fmt.Sprintf("unmet_how_%d", level)}
}

// alternatives are the other methods the citizen may use at this step: on
// the first factor's page, the methods that identify a citizen by
// themselves; once the citizen is known, the other methods they have that
// reach the level still missing (and, up to level 2, a recovery code).
func (e *Engine) alternatives(r *http.Request, txn *Txn, cur Method) []Alternative {
	ctx := r.Context()
	if !e.traits(ctx, cur).firstFactor() {
		return e.otherWays(ctx, txn, cur)
	}
	var out []Alternative
	for _, m := range e.methods {
		if m.Name() == cur.Name() {
			continue
		}
		if o := e.traits(ctx, m); o.Available && o.Identifies {
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

// otherWays are the methods a known citizen has, besides cur, that can
// finish this login: those reaching the level (at least 2, since the
// first factor was given), and a recovery code up to level 2.
func (e *Engine) otherWays(ctx context.Context, txn *Txn, cur Method) []Alternative {
	if txn.CitizenID == "" {
		return nil
	}
	offers, err := e.offers(ctx, txn)
	if err != nil {
		e.o.Log.ErrorContext(ctx, "login alternatives", "err", err)
		return nil
	}
	want := max(txn.Request.MinLevel, assurance.Substantial)
	var out []Alternative
	for _, name := range e.order() {
		o, ok := offers[name]
		if !ok || name == cur.Name() || o.firstFactor() {
			continue
		}
		if (o.Recovery && want <= assurance.Substantial) || (!o.Recovery && o.Level >= want) {
			out = append(out, Alternative{Name: name, Label: "method_" + name})
		}
	}
	return out
}
