package saml

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Redis buckets (internal/session values).
var (
	kindPending = session.NewBucket[pendingRequest]("samlar") // a checked AuthnRequest waiting for the login
	kindSeen    = session.NewBucket[int]("samlid")            // AuthnRequest IDs already received (single use)
)

// seenTTL is how long a request ID is remembered: longer than crewjam
// accepts a request at all (IssueInstant within MaxIssueDelay, allowing
// MaxClockSkew), so a replay is refused either way.
const seenTTL = 10 * time.Minute

// pendingRequest is an AuthnRequest (or an IdP-initiated login) that was
// checked on arrival and waits in Redis for the login. It holds what the
// response needs; the response is built from it, never from the request
// again, so crewjam's MaxIssueDelay (90 s from the request's IssueInstant)
// does not limit how long the citizen may take to log in.
type pendingRequest struct {
	ID         string `json:"id"`
	SP         string `json:"sp"`                   // entity ID
	RequestID  string `json:"request_id,omitempty"` // the AuthnRequest's ID; "" when IdP-initiated
	ACS        string `json:"acs"`                  // HTTP-POST ACS location, from the metadata
	RelayState string `json:"relay_state,omitempty"`
	// NameIDFormat is the format the request asked for; "" means the SP's.
	NameIDFormat string `json:"nameid_format,omitempty"`
	MinLevel     int    `json:"min_level"`
	// Comparison and Levels are the RequestedAuthnContext, as levels.
	Comparison string `json:"comparison,omitempty"`
	Levels     []int  `json:"levels,omitempty"`
	ForceAuthn bool   `json:"force_authn,omitempty"`
	IsPassive  bool   `json:"is_passive,omitempty"`
	// Browser binds the request to the first browser that continues it
	// (login.Engine.Browser); a POST-binding request arrives cross-site,
	// without the binding cookie, so binding waits for /saml/continue.
	Browser   string    `json:"browser,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// refusal is why a request is answered with an error page rather than a
// SAML response: nothing in it can be trusted to say where to send one.
type refusal struct {
	reason string // for logs and the audit trail
	status int
	page   string // catalogue key of the message
}

// classify maps what crewjam's checks returned to a refusal.
func classify(err error) refusal {
	switch {
	case errors.Is(err, saml.ErrUnknownAssertionConsumerService): // also matches os.ErrNotExist
		return refusal{"assertion consumer service not in the metadata", http.StatusBadRequest, "err_saml_acs"}
	case errors.Is(err, saml.ErrUnknownServiceProvider), errors.Is(err, os.ErrNotExist):
		return refusal{"unknown service provider", http.StatusBadRequest, "err_saml_unknown_sp"}
	case errors.Is(err, saml.ErrInvalidSignature) && errors.Is(err, saml.ErrUnsupported):
		return refusal{"signature algorithm", http.StatusBadRequest, "err_saml_signature"}
	case errors.Is(err, saml.ErrInvalidSignature):
		return refusal{"signature", http.StatusBadRequest, "err_saml_signature"}
	case errors.Is(err, saml.ErrExpired), errors.Is(err, saml.ErrNotYetValid):
		return refusal{"expired or not yet valid", http.StatusBadRequest, "err_saml_request"}
	case errors.Is(err, errMessage), errors.Is(err, saml.ErrMalformedMessage), errors.Is(err, saml.ErrMissingElement),
		errors.Is(err, saml.ErrDestinationMismatch), errors.Is(err, saml.ErrUnsupported):
		return refusal{"malformed", http.StatusBadRequest, "err_saml_request"}
	}
	return refusal{"error", http.StatusServiceUnavailable, "err_generic"}
}

// refuse answers with an error page. Only a request from a known service
// provider is audited: anonymous junk would only fill the audit log.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, sp string, f refusal, err error) {
	ctx := r.Context()
	if len(sp) > 256 {
		sp = sp[:256]
	}
	if f.status >= 500 {
		p.o.Log.ErrorContext(ctx, "saml request", "sp", sp, "err", err)
	} else {
		p.o.Log.WarnContext(ctx, "saml request refused", "sp", sp, "reason", f.reason, "err", err)
	}
	if sp != "" && f.page != "err_saml_unknown_sp" && f.status < 500 {
		p.audit(ctx, audit.Event{Actor: "anonymous", Action: "saml.authn_request", Target: "sp:" + sp, Outcome: "refused",
			Details: map[string]string{"reason": f.reason}})
	}
	p.o.Renderer.Error(w, r, f.status, server.Locale(r, nil), f.page)
}

// serveSSO receives an AuthnRequest, with the HTTP-Redirect binding (GET)
// or the HTTP-POST binding (POST, a cross-site request that carries no
// SameSite=Lax cookie). It checks it completely, records its ID (single
// use), keeps it in Redis and continues with a same-site redirect, where
// the SSO cookie is readable.
func (p *Provider) serveSSO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if _, err := precheck(r, "SAMLRequest"); err != nil {
		p.refuse(w, r, "", classify(err), err)
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.refuse(w, r, "", classify(err), err)
		return
	}
	req, err := saml.NewIdpAuthnRequest(idp, r)
	if err != nil {
		p.refuse(w, r, "", refusal{"malformed", http.StatusBadRequest, "err_saml_request"}, err)
		return
	}
	if err := req.Validate(); err != nil {
		issuer := ""
		if req.Request.Issuer != nil {
			issuer = req.Request.Issuer.Value
		}
		p.refuse(w, r, issuer, classify(err), err)
		return
	}
	entityID := req.ServiceProviderMetadata.EntityID
	if req.ACSEndpoint == nil || req.ACSEndpoint.Binding != saml.HTTPPostBinding {
		p.refuse(w, r, entityID, refusal{"assertion consumer service binding", http.StatusBadRequest, "err_saml_acs"}, nil)
		return
	}
	sp, _, err := p.serviceProvider(ctx, entityID)
	if err != nil {
		p.refuse(w, r, entityID, classify(err), err)
		return
	}
	// Single use, whatever the binding and whether signed or not.
	err = kindSeen.PutNew(ctx, p.o.Sessions, session.Hash(entityID+"\x00"+req.Request.ID), 1, seenTTL)
	if errors.Is(err, session.ErrConflict) {
		p.refuse(w, r, entityID, refusal{"replayed request ID", http.StatusBadRequest, "err_saml_replay"}, nil)
		return
	} else if err != nil {
		p.refuse(w, r, entityID, classify(err), err)
		return
	}

	if req.Request.Subject != nil {
		p.sendStatus(w, r, req, sp, &saml.StatusError{TopLevel: saml.StatusRequester, SecondLevel: saml.StatusRequestUnsupported,
			Message: "a Subject in the AuthnRequest is not supported"}, "subject")
		return
	}
	format, serr := nameIDPolicy(sp, req.Request.NameIDPolicy)
	if serr != nil {
		p.sendStatus(w, r, req, sp, serr, "NameIDPolicy")
		return
	}
	pr := &pendingRequest{
		ID:           session.RandomToken(24),
		SP:           entityID,
		RequestID:    req.Request.ID,
		ACS:          req.ACSEndpoint.Location,
		RelayState:   req.RelayState,
		NameIDFormat: format,
		ForceAuthn:   req.Request.ForceAuthn != nil && *req.Request.ForceAuthn,
		IsPassive:    req.Request.IsPassive != nil && *req.Request.IsPassive,
		CreatedAt:    p.now(),
	}
	if serr := p.requestedLevel(pr, sp, req.Request.RequestedAuthnContext); serr != nil {
		p.sendStatus(w, r, req, sp, serr, "RequestedAuthnContext")
		return
	}
	p.pend(w, r, pr)
}

// serveIdPInitiated starts an unsolicited login at a service provider that
// allows it, from a link: /saml/idp-initiated?sp=ENTITYID&RelayState=...
func (p *Provider) serveIdPInitiated(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	entityID := q.Get("sp")
	sp, _, err := p.serviceProvider(ctx, entityID)
	if err != nil {
		p.refuse(w, r, entityID, classify(err), err)
		return
	}
	if !sp.AllowIdPInitiated {
		p.refuse(w, r, entityID, refusal{"IdP-initiated login not allowed", http.StatusForbidden, "err_saml_idp_initiated"}, nil)
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.refuse(w, r, entityID, classify(err), err)
		return
	}
	req, err := idp.NewIdpInitiatedRequest(r, entityID, q.Get("RelayState"))
	if err != nil {
		f := classify(err)
		if errors.Is(err, saml.ErrRelayStateTooLong) {
			f = refusal{"RelayState too long", http.StatusBadRequest, "err_saml_request"}
		}
		p.refuse(w, r, entityID, f, err)
		return
	}
	p.pend(w, r, &pendingRequest{
		ID:         session.RandomToken(24),
		SP:         entityID,
		ACS:        req.ACSEndpoint.Location,
		RelayState: req.RelayState,
		MinLevel:   max(sp.MinLevel, 1),
		CreatedAt:  p.now(),
	})
}

// pend stores pr and continues with its login. A request that came by a
// GET (the redirect binding, a link) is a top-level navigation with the
// browser's cookies: it is bound to this browser and its login begins in
// this response. One that came by a cross-site POST (the POST binding)
// has no cookies, so it continues with a same-site redirect, where the
// first browser to arrive binds it.
func (p *Provider) pend(w http.ResponseWriter, r *http.Request, pr *pendingRequest) {
	get := r.Method == http.MethodGet
	if get {
		pr.Browser = p.o.Login.Browser(w, r)
	}
	// It outlives the login transaction it starts (RequestTTL too), so a
	// login finished in time always finds its request.
	if err := kindPending.Put(r.Context(), p.o.Sessions, pr.ID, *pr, p.o.RequestTTL+5*time.Minute); err != nil {
		p.refuse(w, r, pr.SP, refusal{"store", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	if get {
		p.begin(w, r, pr)
		return
	}
	http.Redirect(w, r, pathContinue+pr.ID, http.StatusSeeOther)
}

// continueLogin hands a pending request to the login engine. It is a
// same-site GET, so the SSO cookie is there. The first browser to continue
// a request keeps it: in any other it is worthless.
func (p *Provider) continueLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	browser := p.o.Login.Browser(w, r)
	pr := new(pendingRequest)
	err := session.ErrNotFound
	if id := r.PathValue("id"); id != "" && len(id) < 64 {
		err = kindPending.Update(ctx, p.o.Sessions, id, pr, func() error {
			if pr.Browser == "" {
				pr.Browser = browser
			}
			return nil
		})
	}
	if err != nil {
		p.o.Renderer.Gone(w, r, http.StatusNotFound, server.Locale(r, nil), "load saml request", err)
		return
	}
	if !p.o.Login.SameBrowser(r, pr.Browser) {
		p.refuse(w, r, pr.SP, refusal{"continued from another browser", http.StatusForbidden, "err_other_browser"}, nil)
		return
	}
	p.begin(w, r, pr)
}

// begin hands the pending request pr, bound to the request's browser, to
// the login engine.
func (p *Provider) begin(w http.ResponseWriter, r *http.Request, pr *pendingRequest) {
	sp, _, err := p.serviceProvider(r.Context(), pr.SP)
	if err != nil {
		p.refuse(w, r, pr.SP, classify(err), err)
		return
	}
	req := login.Request{
		Protocol:   Protocol,
		RequestID:  pr.ID,
		ClientID:   "saml:" + sp.EntityID,
		ClientName: sp.Name,
		MinLevel:   assurance.Level(pr.MinLevel),
		NoPrompt:   pr.IsPassive,
		Portal:     Portal(sp.EntityID),
		Attributes: Releases(sp),
		LegalBasis: sp.LegalBasis,
	}
	if pr.ForceAuthn {
		// Authenticate again: only what happens after the request counts.
		zero := time.Duration(0)
		req.MaxAge, req.Since = &zero, pr.CreatedAt
	}
	p.o.Login.Begin(w, r, req)
}

// takePending takes (single use) a pending request for the browser it is
// bound to, answering with an error page when it is gone or bound to
// another browser.
func (p *Provider) takePending(w http.ResponseWriter, r *http.Request, id string) (*pendingRequest, bool) {
	pr := new(pendingRequest)
	err := session.ErrNotFound
	if id != "" && len(id) < 64 {
		err = kindPending.Take(r.Context(), p.o.Sessions, id, pr)
	}
	if err != nil {
		p.o.Renderer.Gone(w, r, http.StatusNotFound, server.Locale(r, nil), "load saml request", err)
		return nil, false
	}
	if !p.o.Login.SameBrowser(r, pr.Browser) {
		p.refuse(w, r, pr.SP, refusal{"completed from another browser", http.StatusForbidden, "err_other_browser"}, nil)
		return nil, false
	}
	return pr, true
}

// nameIDPolicy checks the NameIDPolicy of a request: the format it asks
// for ("" for the SP's own), or the status to refuse it with.
func nameIDPolicy(sp *store.ServiceProvider, np *saml.NameIDPolicy) (string, *saml.StatusError) {
	if np == nil {
		return "", nil
	}
	invalid := &saml.StatusError{TopLevel: saml.StatusRequester, SecondLevel: saml.StatusInvalidNameIDPolicy}
	if np.SPNameQualifier != nil && *np.SPNameQualifier != "" && *np.SPNameQualifier != sp.EntityID {
		invalid.Message = "identifiers are issued for the requesting service provider only"
		return "", invalid
	}
	if np.Format == nil {
		return "", nil
	}
	switch f := strings.TrimSpace(*np.Format); f {
	case "", nameIDUnspecified, nameIDEncrypted:
		return "", nil
	case NameIDPersistent, NameIDTransient:
		return f, nil
	case NameIDCitizenNumber:
		if sp.AllowCitizenNumber {
			return f, nil
		}
		invalid.Message = "the citizen number is not released to this service provider"
		return "", invalid
	default:
		invalid.Message = "supported formats: persistent, transient"
		return "", invalid
	}
}

// requestedLevel sets pr's minimum level from the SP's minimum and the
// RequestedAuthnContext, through the acr table (eIDAS URIs understood).
// Class references CitizenID does not know are ignored; if none is known
// the request cannot be satisfied. exact and minimum need the lowest level
// listed, better one more; maximum needs no more than the SP's minimum.
// It returns the status to refuse the request with, if any.
func (p *Provider) requestedLevel(pr *pendingRequest, sp *store.ServiceProvider, rac *saml.RequestedAuthnContext) *saml.StatusError {
	pr.MinLevel = max(sp.MinLevel, 1)
	if rac == nil || len(rac.ClassRefs()) == 0 {
		return nil
	}
	noContext := &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusNoAuthnContext,
		Message: "the requested authentication context cannot be satisfied"}
	var levels []int
	for _, ref := range rac.ClassRefs() {
		if l, ok := p.o.ACR.Level(strings.TrimSpace(ref)); ok {
			levels = append(levels, int(l))
		}
	}
	if len(levels) == 0 {
		return noContext
	}
	slices.Sort(levels)
	levels = slices.Compact(levels)
	lowest, highest := levels[0], levels[len(levels)-1]
	need := 1
	switch rac.Comparison {
	case "", "exact", "minimum":
		need = lowest
	case "better":
		need = lowest + 1
	case "maximum":
	default:
		return &saml.StatusError{TopLevel: saml.StatusRequester, Message: fmt.Sprintf("unknown Comparison %q", rac.Comparison)}
	}
	pr.MinLevel = max(pr.MinLevel, need)
	pr.Comparison, pr.Levels = rac.Comparison, levels
	if pr.MinLevel > int(assurance.VeryHigh) || ((rac.Comparison == "" || rac.Comparison == "exact" || rac.Comparison == "maximum") && pr.MinLevel > highest) {
		return noContext
	}
	return nil
}

// reportedLevel is the level an assertion states. With exact or maximum
// the SP accepts only the levels it listed (or below the highest), so the
// assertion states the highest of them that the level reached covers;
// otherwise the level reached. Never more than was reached.
func (pr *pendingRequest) reportedLevel(reached assurance.Level) assurance.Level {
	switch pr.Comparison {
	case "", "exact", "maximum":
		if len(pr.Levels) == 0 {
			return reached
		}
		out := assurance.Level(0)
		for _, l := range pr.Levels {
			if assurance.Level(l) <= reached {
				out = assurance.Level(l)
			}
		}
		if pr.Comparison == "maximum" {
			out = min(reached, assurance.Level(pr.Levels[len(pr.Levels)-1]))
		}
		return out
	}
	return reached
}

// rebuild is the crewjam request for a pending one, to respond to it: the
// service provider and its ACS endpoint are looked up again (it may have
// been disabled or changed meanwhile); nothing is validated again.
func (p *Provider) rebuild(ctx context.Context, r *http.Request, idp *saml.IdentityProvider, pr *pendingRequest) (*saml.IdpAuthnRequest, *store.ServiceProvider, error) {
	sp, ed, err := p.serviceProvider(ctx, pr.SP)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range ed.SPSSODescriptors {
		for _, ep := range d.AssertionConsumerServices {
			if ep.Location == pr.ACS && ep.Binding == saml.HTTPPostBinding {
				return &saml.IdpAuthnRequest{
					IDP:                     idp,
					HTTPRequest:             r,
					RelayState:              pr.RelayState,
					Request:                 saml.AuthnRequest{ID: pr.RequestID, Version: "2.0"},
					ServiceProviderMetadata: ed,
					SPSSODescriptor:         &d,
					ACSEndpoint:             &ep,
					Now:                     p.now(),
				}, sp, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("service provider %s no longer has the ACS %s: %w", pr.SP, pr.ACS, saml.ErrUnknownAssertionConsumerService)
}

// sendStatus answers a request with a signed SAML error Response posted to
// its ACS (which comes from the metadata).
func (p *Provider) sendStatus(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest, sp *store.ServiceProvider, se *saml.StatusError, reason string) {
	ctx := r.Context()
	if err := req.MakeErrorResponse(se.TopLevel, se.SecondLevel, se.Message); err != nil {
		p.refuse(w, r, sp.EntityID, refusal{"sign error response", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	form, err := req.PostBinding()
	if err != nil {
		p.refuse(w, r, sp.EntityID, refusal{"error response", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	status := se.TopLevel
	if se.SecondLevel != "" {
		status = se.SecondLevel
	}
	p.audit(ctx, audit.Event{Actor: "anonymous", Action: "saml.response", Target: "sp:" + sp.EntityID, Outcome: "failure",
		Details: map[string]string{"status": status[strings.LastIndex(status, ":")+1:], "reason": reason}})
	p.pages.writePost(w, r, postForm{URL: form.URL, Field: "SAMLResponse", Value: form.SAMLResponse, RelayState: form.RelayState, Service: sp.Name})
}
