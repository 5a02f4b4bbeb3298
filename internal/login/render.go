package login

import (
	"net/http"

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
	}
	if txn.State == StateConsent {
		pg.Consent = e.consentView(lang, txn.Request)
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

// alternatives are the other methods the citizen may use at this step: on
// the first factor's page, the methods that identify a citizen by
// themselves.
func (e *Engine) alternatives(r *http.Request, txn *Txn, cur Method) []Alternative {
	ctx := r.Context()
	if !e.traits(ctx, cur).firstFactor() {
		return nil
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
