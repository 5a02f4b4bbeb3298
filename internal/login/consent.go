package login

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// ConsentTextVersion is the version of the consent page's text (and of the
// legal-basis notice). Bump it when what the citizen reads there changes
// in substance: consents given under an older text no longer cover a
// request, so every citizen is asked again.
const ConsentTextVersion = 1

// basis is the basis a request's release rests on.
func (r Request) basis() string {
	if r.LegalBasis != "" {
		return store.BasisLegal
	}
	return store.BasisConsent
}

// consentCovers reports whether the citizen's consent in force to the
// request's portal covers it: same basis (and legal basis), the current
// text, every attribute.
func (e *Engine) consentCovers(ctx context.Context, citizenID string, req Request) (bool, error) {
	c, err := e.o.Store.ActiveConsent(ctx, citizenID, req.Portal)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load consent: %w", err)
	}
	return c.Basis == req.basis() && c.LegalBasis == req.LegalBasis && c.TextVersion >= ConsentTextVersion &&
		release.Covers(release.Parse(c.Attributes), req.Attributes), nil
}

// ConsentView is what the consent page shows.
type ConsentView struct {
	PortalName string
	// Logo is the portal's logo when registered as a data: URI: a logo
	// fetched from the portal's server would tell it who looks at the
	// page, so no other is shown.
	Logo       template.URL
	Attributes []string // plain-language labels, in page order
	LegalBasis string
}

// logoURI returns logo if it is an inline image (data:image/…), else "".
func logoURI(logo string) template.URL {
	for _, t := range []string{"png", "jpeg", "gif", "webp"} {
		if strings.HasPrefix(logo, "data:image/"+t+";base64,") {
			return template.URL(logo)
		}
	}
	return ""
}

func (e *Engine) consentView(lang string, req Request) *ConsentView {
	v := &ConsentView{PortalName: req.ClientName, Logo: logoURI(req.PortalLogo), LegalBasis: req.LegalBasis}
	for _, a := range release.Sort(req.Attributes) {
		v.Attributes = append(v.Attributes, e.o.Renderer.T(lang, string(a.Label())))
	}
	return v
}

// submitConsent answers the consent page: approve stores the consent
// (covering what an earlier consent in force covered too) before the
// login goes on; decline answers the portal access_denied.
func (e *Engine) submitConsent(w http.ResponseWriter, r *http.Request, txn *Txn, lang string) {
	ctx := r.Context()
	req := txn.Request
	ev := audit.Event{Actor: "citizen:" + txn.CitizenID, Target: "citizen:" + txn.CitizenID, ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"portal": req.Portal, "basis": req.basis(),
			"attributes": strings.Join(release.Strings(release.Sort(req.Attributes)), " ")}}
	if r.PostForm.Get("decision") != "approve" {
		ev.Action, ev.Outcome = "consent.deny", "success"
		e.o.Audit.Record(ctx, ev)
		e.finish(w, r, txn, e.Session(r), nil, ErrConsentDenied)
		return
	}
	attrs := req.Attributes
	prev, err := e.o.Store.ActiveConsent(ctx, txn.CitizenID, req.Portal)
	if err == nil && prev.Basis == req.basis() && prev.LegalBasis == req.LegalBasis {
		attrs = append(release.Parse(prev.Attributes), attrs...)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.o.Log.ErrorContext(ctx, "load consent", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	c := &store.Consent{ID: session.RandomToken(16), CitizenID: txn.CitizenID, Portal: req.Portal, PortalName: req.ClientName,
		Attributes: release.Strings(release.Sort(attrs)), Basis: req.basis(), LegalBasis: req.LegalBasis,
		TextVersion: ConsentTextVersion, GrantedAt: e.o.Sessions.Now()}
	if err := e.o.Store.GrantConsent(ctx, c); err != nil {
		e.o.Log.ErrorContext(ctx, "store consent", "err", err)
		e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	ev.Action, ev.Outcome = "consent.grant", "success"
	e.o.Audit.Record(ctx, ev)
	txn.Consented = true
	e.advance(w, r, txn, e.Session(r), nil)
}
