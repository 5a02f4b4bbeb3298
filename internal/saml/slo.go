package saml

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// Redis buckets of single logout.
var (
	kindSessionIndex = session.NewBucket[string]("samlsi")       // hash(SP, SessionIndex) → SID
	kindLogout       = session.NewBucket[logoutRecord]("samllo") // a logout CitizenID runs through the browser
	kindReplay       = session.NewBucket[int]("samlrc")          // IDs of LogoutRequests received
)

// logoutCookie carries the ID of the logout running in this browser from
// its start to its result page, like crewjam's own state cookie.
const logoutCookie = "citizenid_saml_logout"

// participant is a service provider that received an assertion in an SSO
// session, and how it knows the citizen there.
type participant struct {
	SP           string      `json:"sp"`
	NameID       saml.NameID `json:"nameid"`
	SessionIndex string      `json:"session_index"`
}

// logoutRecord is a logout to run in the browser: the ended session's
// participants, and where the browser goes at the end.
type logoutRecord struct {
	SID          string        `json:"sid"`
	CitizenID    string        `json:"citizen_id"`
	Then         string        `json:"then,omitempty"`
	Participants []participant `json:"participants"`
}

// afterLogout is the login engine's logout hook: an SSO session ended
// (OIDC end_session, the account page, an administrator). Its SAML service
// providers are told front-channel: the browser goes to
// /saml/logout/{id}, which visits each in turn and ends on a page saying
// which confirmed, with a link to then.
func (p *Provider) afterLogout(ctx context.Context, ended *session.Session, how login.How) string {
	then := how.Then
	parts := participantsOf(ended)
	if len(parts) == 0 || how.Handled == Protocol {
		return then
	}
	if how.W == nil {
		// No browser: service providers with a SOAP endpoint are told
		// through the back channel (soap.go); a front-channel logout
		// cannot reach the others' cookies, and their sessions end on
		// their own timeouts.
		queued, unreachable := p.queueSOAPLogouts(ctx, parts)
		if len(queued) > 0 {
			p.audit(ctx, audit.Event{Actor: "system", Action: "saml.logout", Target: "citizen:" + ended.CitizenID, Outcome: "queued",
				Details: map[string]string{"reason": "no browser: SOAP back channel", "sps": strings.Join(queued, " ")}})
		}
		if len(unreachable) > 0 {
			p.audit(ctx, audit.Event{Actor: "system", Action: "saml.logout", Target: "citizen:" + ended.CitizenID, Outcome: "skipped",
				Details: map[string]string{"reason": "not reachable without the citizen's browser", "sps": strconv.Itoa(len(unreachable))}})
		}
		return ""
	}
	id := session.RandomToken(24)
	rec := logoutRecord{SID: ended.SID, CitizenID: ended.CitizenID, Then: then, Participants: parts}
	if err := kindLogout.Put(ctx, p.o.Sessions, id, rec, saml.LogoutStateLifetime); err != nil {
		p.o.Log.ErrorContext(ctx, "saml logout", "err", err)
		return then
	}
	return pathLogout + id
}

// startLogout runs an IdP-initiated logout in the browser: crewjam sends
// each participant a signed LogoutRequest in turn (SOAP where the SP has a
// back channel), checks each LogoutResponse at /saml/slo, and ends with
// the result page (logoutResult).
func (p *Provider) startLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var rec logoutRecord
	if len(id) > 64 || kindLogout.Load(ctx, p.o.Sessions, id, &rec) != nil {
		p.o.Renderer.Render(w, r, http.StatusOK, "logged_out", server.Locale(r, nil), "logged_out_title", nil)
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.o.Log.ErrorContext(ctx, "saml logout", "err", err)
		p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	http.SetCookie(w, p.logoutCookie(id, int(saml.LogoutStateLifetime.Seconds())))
	p.browserTemplates(idp, w, r, id)
	r = r.WithContext(withCandidates(ctx, candidates{list: []candidate{{SID: rec.SID, Participants: rec.Participants}}}))
	idp.StartLogout(w, r, &saml.Session{ID: rec.SID}, "")
}

func (p *Provider) logoutCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: logoutCookie, Value: value, Path: "/saml/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if p.o.HTTPS {
		// A LogoutResponse posted by a service provider is a cross-site request.
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

// serveSLO is the single logout service. It receives a service provider's
// LogoutRequest (SP-initiated logout, HTTP-Redirect or HTTP-POST), or its
// LogoutResponse to a LogoutRequest CitizenID sent. crewjam checks the
// message (signature with the SP's metadata keys, SHA-1 refused,
// destination, freshness, replay) and runs the protocol; CitizenID finds
// and ends the SSO session the request names.
func (p *Provider) serveSLO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	param := "SAMLRequest"
	if isLogoutResponse(r) {
		param = "SAMLResponse"
	}
	msg, err := precheck(r, param)
	if err != nil {
		p.refuse(w, r, "", classify(err), err)
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.refuse(w, r, "", classify(err), err)
		return
	}
	var lid string
	if c, err := r.Cookie(logoutCookie); err == nil {
		lid = c.Value
	}
	ew := &errorPages{ResponseWriter: w, r: r, p: p}
	p.browserTemplates(idp, ew, r, lid)
	if param == "SAMLRequest" {
		r = r.WithContext(withCandidates(ctx, p.logoutCandidates(r, msg)))
	}
	idp.ServeSLO(ew, r)
}

func isLogoutResponse(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return r.URL.Query().Has("SAMLResponse")
	}
	return r.ParseForm() == nil && r.PostForm.Has("SAMLResponse")
}

// candidate is an SSO session a logout may be about, and its participants.
type candidate struct {
	SID          string
	Sess         *session.Session // nil when it has ended already
	Browser      bool             // the session of this browser's cookie
	Participants []participant
}

// candidates are the sessions a logout request may name; issuer, when
// set, is the service provider the request says it comes from (checked by
// crewjam before anything is ended).
type candidates struct {
	list   []candidate
	issuer string
}

type candidatesKey struct{}

func withCandidates(ctx context.Context, c candidates) context.Context {
	return context.WithValue(ctx, candidatesKey{}, c)
}

func candidatesOf(ctx context.Context) candidates {
	c, _ := ctx.Value(candidatesKey{}).(candidates)
	return c
}

// logoutCandidates finds the sessions a LogoutRequest (msg, not yet
// verified) may name: this browser's, and those its SessionIndexes
// point at (a POSTed request is cross-site and carries no SameSite=Lax
// cookie). Only crewjam's verdict on the verified request ends any.
func (p *Provider) logoutCandidates(r *http.Request, msg []byte) candidates {
	ctx := r.Context()
	var lr saml.LogoutRequest
	xml.Unmarshal(msg, &lr)
	out := candidates{}
	if lr.Issuer != nil {
		out.issuer = lr.Issuer.Value
	}
	seen := map[string]bool{}
	add := func(sid string, sess *session.Session, browser bool) {
		if sid == "" || seen[sid] {
			return
		}
		seen[sid] = true
		c := candidate{SID: sid, Sess: sess, Browser: browser}
		if c.Sess == nil {
			if s, err := p.o.Sessions.BySID(ctx, sid); err == nil {
				c.Sess = s
			}
		}
		if c.Sess != nil {
			c.Participants = participantsOf(c.Sess)
		}
		out.list = append(out.list, c)
	}
	if sess := p.o.Login.Peek(r); sess != nil {
		add(sess.SID, sess, true)
	}
	for i, si := range lr.AllSessionIndexes() {
		if i >= 8 || out.issuer == "" {
			break
		}
		var sid string
		if kindSessionIndex.Load(ctx, p.o.Sessions, sessionIndexKey(out.issuer, si.Value), &sid) == nil {
			add(sid, nil, false)
		}
	}
	return out
}

// sessions returns the crewjam sessions of c as the service provider sp
// knows them (all of them when sp is empty): one per participant.
func (c candidate) sessions(sp string) []*saml.Session {
	var out []*saml.Session
	for _, pt := range c.Participants {
		if sp != "" && pt.SP != sp {
			continue
		}
		out = append(out, &saml.Session{ID: c.SID, NameID: pt.NameID.Value, NameIDFormat: pt.NameID.Format, Index: pt.SessionIndex})
	}
	return out
}

func (c candidate) matches(sp string, match func(*saml.Session) bool) bool {
	return slices.ContainsFunc(c.sessions(sp), match)
}

// sloSessions is the SessionProvider crewjam's single logout works with.
// It knows the sessions of the request at hand (candidates), never looks
// sessions up itself.
type sloSessions struct{ p *Provider }

var (
	_ saml.SessionProvider           = sloSessions{}
	_ saml.SessionInvalidator        = sloSessions{}
	_ saml.SessionParticipantTracker = sloSessions{}
)

// GetSession is not used: logins go through the login engine, not ServeSSO.
func (s sloSessions) GetSession(w http.ResponseWriter, r *http.Request, _ *saml.IdpAuthnRequest) *saml.Session {
	s.p.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "err_not_found")
	return nil
}

// AddSessionParticipant is not used: Complete records participants.
func (s sloSessions) AddSessionParticipant(*http.Request, *saml.Session, saml.SessionParticipant) error {
	return nil
}

// SessionParticipants lists the participants of the candidate sessions
// that match.
func (s sloSessions) SessionParticipants(r *http.Request, match func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	cs := candidatesOf(r.Context())
	var out []saml.SessionParticipant
	for _, c := range cs.list {
		if !c.matches(cs.issuer, match) {
			continue
		}
		for _, pt := range c.Participants {
			out = append(out, saml.SessionParticipant{ServiceProviderID: pt.SP, NameID: pt.NameID, SessionIndex: pt.SessionIndex})
		}
	}
	return out, nil
}

// InvalidateSession ends the SSO sessions a verified LogoutRequest names,
// as the requesting service provider knows them: the session, the
// refresh tokens issued in it, and this browser's cookie if it is its.
func (s sloSessions) InvalidateSession(w http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	ctx := r.Context()
	p := s.p
	sp := req.ServiceProviderMetadata.EntityID
	var errs []error
	for _, c := range candidatesOf(ctx).list {
		if !c.matches(sp, req.MatchesSession) {
			continue
		}
		if c.Sess != nil {
			// crewjam tells the other service providers itself.
			how := login.How{Actor: "sp:" + sp, Reason: "saml slo", Handled: Protocol}
			if c.Browser {
				how.W, how.R = w, r
			}
			p.o.Login.End(ctx, c.Sess, how)
		}
	}
	return errors.Join(errs...)
}

// browserTemplates gives crewjam's forms and result page CitizenID's look
// and language, with the auto-submit script the CSP allows (crewjam's
// inline scripts would be blocked). lid is the logout running in this
// browser, if any, for the result page.
func (p *Provider) browserTemplates(idp *saml.IdentityProvider, w http.ResponseWriter, r *http.Request, lid string) {
	post := func(field string) func(url, value, relay string) (template.HTML, error) {
		return func(url, value, relay string) (template.HTML, error) {
			b, err := p.pages.render(r, "saml_post", "saml_logout_progress", postForm{URL: url, Field: field, Value: value, RelayState: relay, Logout: true})
			return template.HTML(b), err
		}
	}
	idp.ResponseFormTemplate = template.Must(template.New("").Funcs(template.FuncMap{"page": post("SAMLResponse")}).
		Parse(`{{page .URL .SAMLResponse .RelayState}}`))
	idp.LogoutRequestFormTemplate = template.Must(template.New("").Funcs(template.FuncMap{"page": post("SAMLRequest")}).
		Parse(`{{page .URL .SAMLRequest ""}}`))
	idp.LogoutCompleteTemplate = template.Must(template.New("").Funcs(template.FuncMap{"page": func(failed []string) (template.HTML, error) {
		return p.logoutResult(w, r, lid, failed)
	}}).Parse(`{{page .Failed}}`))
}

// logoutPage is the view model of saml_logout.html.
type logoutPage struct {
	Services    []serviceResult
	Unconfirmed bool
	Then        string
}

type serviceResult struct {
	EntityID  string
	Name      string
	Confirmed bool
}

// logoutResult renders the end of a logout CitizenID ran: which service
// providers confirmed (crewjam reports those that did not).
func (p *Provider) logoutResult(w http.ResponseWriter, r *http.Request, lid string, failed []string) (template.HTML, error) {
	ctx := r.Context()
	var rec logoutRecord
	if lid != "" && len(lid) <= 64 {
		kindLogout.Take(ctx, p.o.Sessions, lid, &rec)
	}
	http.SetCookie(w, p.logoutCookie("", -1))
	pg := logoutPage{Then: rec.Then}
	if pg.Then == "/logged-out" {
		pg.Then = ""
	}
	for _, pt := range rec.Participants {
		res := serviceResult{EntityID: pt.SP, Name: pt.SP, Confirmed: !slices.Contains(failed, pt.SP)}
		if sp, err := p.o.Store.ServiceProviderByEntityID(ctx, pt.SP); err == nil && sp.Name != "" {
			res.Name = sp.Name
		}
		pg.Services = append(pg.Services, res)
	}
	for _, f := range failed {
		if !slices.ContainsFunc(pg.Services, func(s serviceResult) bool { return s.EntityID == f }) {
			pg.Services = append(pg.Services, serviceResult{EntityID: f, Name: f})
		}
	}
	confirmed := 0
	for _, s := range pg.Services {
		if s.Confirmed {
			confirmed++
		} else {
			pg.Unconfirmed = true
		}
	}
	if rec.CitizenID != "" {
		p.audit(ctx, audit.Event{Actor: "citizen:" + rec.CitizenID, Action: "saml.logout", Target: "citizen:" + rec.CitizenID,
			Outcome: map[bool]string{true: "success", false: "partial"}[!pg.Unconfirmed],
			Details: map[string]string{"confirmed": strconv.Itoa(confirmed), "unconfirmed": strconv.Itoa(len(pg.Services) - confirmed)}})
	}
	w.Header().Set("Cache-Control", "no-store")
	b, err := p.pages.render(r, "saml_logout", "saml_logout_title", pg)
	return template.HTML(b), err
}

// errorPages turns crewjam's plain-text HTTP errors into CitizenID's error
// page; everything else passes through.
type errorPages struct {
	http.ResponseWriter
	r         *http.Request
	p         *Provider
	swallowed bool
}

func (e *errorPages) WriteHeader(status int) {
	if status >= 400 && bytes.HasPrefix([]byte(e.Header().Get("Content-Type")), []byte("text/plain")) {
		e.swallowed = true
		e.Header().Del("Content-Type")
		key := "err_saml_request"
		if status >= 500 {
			key = "err_generic"
		}
		e.p.o.Renderer.Error(e.ResponseWriter, e.r, status, server.Locale(e.r, nil), key)
		return
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *errorPages) Write(b []byte) (int, error) {
	if e.swallowed {
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorPages) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// replayCache makes crewjam's LogoutRequest IDs single use across nodes.
type replayCache struct{ p *Provider }

func (c replayCache) Consume(id string, expiresAt time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ttl := max(expiresAt.Sub(c.p.now()), 0) + time.Minute
	err := kindReplay.PutNew(ctx, c.p.o.Sessions, session.Hash(id), 1, ttl)
	if errors.Is(err, session.ErrConflict) {
		return saml.ErrAssertionReplayed
	}
	return err
}
