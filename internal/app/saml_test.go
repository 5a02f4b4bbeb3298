package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
)

// samlPortal is a SAML service provider built with crewjam's samlsp, as an
// older portal would be: it knows CitizenID only from its metadata URL.
// /hello needs a login and shows what the portal learned.
type samlPortal struct {
	t        testing.TB
	srv      *httptest.Server
	mw       *samlsp.Middleware
	entityID string
	// responses are the SAMLResponse values posted to the ACS, decoded.
	mu        sync.Mutex
	responses [][]byte
	last      portalSeen
}

// portalSeen is what /hello shows.
type portalSeen struct {
	NameID       string              `json:"nameid"`
	NameIDFormat string              `json:"nameid_format"`
	ClassRef     string              `json:"class_ref"`
	AuthnInstant time.Time           `json:"authn_instant"`
	SessionIndex string              `json:"session_index"`
	Audience     string              `json:"audience"`
	Attributes   map[string][]string `json:"attributes"`
}

// spKeys are a few SP key pairs, made once: RSA generation is slow.
var spKeys = struct {
	once  sync.Once
	keys  []*rsa.PrivateKey
	certs []*x509.Certificate
	next  int
	mu    sync.Mutex
}{}

func spKeyPair(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	spKeys.once.Do(func() {
		for i := range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "portal"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
			if err != nil {
				panic(err)
			}
			c, _ := x509.ParseCertificate(der)
			spKeys.keys, spKeys.certs = append(spKeys.keys, k), append(spKeys.certs, c)
		}
	})
	spKeys.mu.Lock()
	defer spKeys.mu.Unlock()
	i := spKeys.next % len(spKeys.keys)
	spKeys.next++
	return spKeys.keys[i], spKeys.certs[i]
}

// testClock is a func() time.Time as the clock samlsp takes.
type testClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c testClock) Now() time.Time                  { return c.now() }
func (c testClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c testClock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

func dsigClock(now func() time.Time) *dsig.Clock {
	return dsig.NewFakeClock(testClock{Clock: clockwork.NewRealClock(), now: now})
}

// newSAMLPortal starts a portal and registers it with CitizenID from its
// metadata.
func newSAMLPortal(t testing.TB, e *env, name string, configure func(*samlsp.Options), register func(*citizensaml.SPSpec)) *samlPortal {
	t.Helper()
	mux := http.NewServeMux()
	p := &samlPortal{t: t, srv: httptest.NewServer(mux)}
	t.Cleanup(p.srv.Close)
	root, _ := url.Parse(p.srv.URL)
	key, cert := spKeyPair(t)
	opts := samlsp.Options{
		URL: *root, Key: key, Certificate: cert, IDPMetadata: idpMetadata(t, e),
		SignLogout: true, LogoutBindings: []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		// Browsers keep cookies per host, not per port: each portal on
		// 127.0.0.1 needs its own session cookie name.
		CookieName: "token" + strings.ReplaceAll(root.Port(), ":", ""),
	}
	if configure != nil {
		configure(&opts)
	}
	mw, err := samlsp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mw.ServiceProvider.AuthnNameIDFormat = saml.UnspecifiedNameIDFormat // the IdP's default for this SP
	mw.AssertionHandler = assertionRecorder{p}
	p.mw = mw
	p.entityID = mw.ServiceProvider.MetadataURL.String()
	mux.HandleFunc("/saml/acs", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			if b, err := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse")); err == nil {
				p.mu.Lock()
				p.responses = append(p.responses, b)
				p.mu.Unlock()
			}
		}
		mw.ServeHTTP(w, r)
	})
	mux.Handle("/saml/", mw)
	mux.HandleFunc("/logout", mw.HandleStartLogout)
	mux.Handle("/hello", mw.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		seen := p.last
		p.mu.Unlock()
		s, _ := samlsp.SessionFromContext(r.Context()).(samlsp.JWTSessionClaims)
		seen.Attributes = map[string][]string(s.GetAttributes())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen)
	})))
	md, err := xml.MarshalIndent(mw.ServiceProvider.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	spec := citizensaml.SPSpec{MetadataXML: md, Name: name}
	if register != nil {
		register(&spec)
	}
	if _, err := citizensaml.Register(context.Background(), e.Store, spec); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return p
}

func idpMetadata(t testing.TB, e *env) *saml.EntityDescriptor {
	t.Helper()
	resp, err := http.Get(e.URL + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: got %d %.300s", resp.StatusCode, b)
	}
	md, err := samlsp.ParseMetadata(b)
	if err != nil {
		t.Fatalf("parse IdP metadata: %v\n%s", err, b)
	}
	return md
}

type assertionRecorder struct{ p *samlPortal }

func (a assertionRecorder) HandleAssertion(as *saml.Assertion) error {
	seen := portalSeen{}
	if as.Subject != nil && as.Subject.NameID != nil {
		seen.NameID, seen.NameIDFormat = as.Subject.NameID.Value, as.Subject.NameID.Format
	}
	for _, st := range as.AuthnStatements {
		seen.AuthnInstant, seen.SessionIndex = st.AuthnInstant, st.SessionIndex
		if st.AuthnContext.AuthnContextClassRef != nil {
			seen.ClassRef = st.AuthnContext.AuthnContextClassRef.Value
		}
	}
	if as.Conditions != nil && len(as.Conditions.AudienceRestrictions) > 0 {
		seen.Audience = as.Conditions.AudienceRestrictions[0].Audience.Value
	}
	a.p.mu.Lock()
	a.p.last = seen
	a.p.mu.Unlock()
	return nil
}

// lastResponse is the last SAMLResponse the portal received.
func (p *samlPortal) lastResponse() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.responses) == 0 {
		p.t.Fatal("the portal received no SAMLResponse")
	}
	return p.responses[len(p.responses)-1]
}

var (
	samlFormRE  = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	samlInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// postForm submits the auto-submitting SAML form on pg, as the browser's
// script would: a cross-site POST.
func (b *browser) postSAMLForm(pg page) page {
	b.t.Helper()
	m := samlFormRE.FindStringSubmatch(pg.body)
	if m == nil {
		b.t.Fatalf("no SAML form on %s (status %d): %.500s", pg.url, pg.status, pg.body)
	}
	form := url.Values{}
	for _, in := range samlInputRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	action := html.UnescapeString(m[1])
	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pg.url.Scheme+"://"+pg.url.Host)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	// A browser does not send a SameSite=Lax cookie, CitizenID's session
	// cookie, with a cross-site POST; the redirects after it are
	// top-level GETs that carry it again.
	c := *b.c
	c.Jar = &laxJar{CookieJar: b.c.Jar}
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
	if !b.manualConsent && isConsentPage(out) {
		return b.approveConsent(out)
	}
	return out
}

// laxJar leaves CitizenID's SameSite=Lax cookies (the session and the
// browser binding) out of the first request it is asked for.
type laxJar struct {
	http.CookieJar
	used bool
}

func (j *laxJar) Cookies(u *url.URL) []*http.Cookie {
	all := j.CookieJar.Cookies(u)
	if j.used {
		return all
	}
	j.used = true
	var out []*http.Cookie
	for _, c := range all {
		if c.Name != "citizenid" && c.Name != "citizenid-browser" {
			out = append(out, c)
		}
	}
	return out
}

// hello opens the portal's protected page through a login, submitting
// the SAML forms on the way (logging in with the password form when
// shown), and returns what the portal saw.
func (p *samlPortal) hello(b *browser, base, number, pw string) (portalSeen, []page) {
	p.t.Helper()
	var trail []page
	pg := b.get(p.srv.URL + "/hello")
	for range 6 {
		trail = append(trail, pg)
		switch {
		case strings.HasPrefix(pg.url.String(), p.srv.URL+"/hello") && pg.header.Get("Content-Type") == "application/json":
			var seen portalSeen
			if err := json.Unmarshal([]byte(pg.body), &seen); err != nil {
				p.t.Fatalf("portal page: %v: %.300s", err, pg.body)
			}
			return seen, trail
		case isLoginForm(pg):
			pg = b.login(base, pg, number, pw)
		case samlFormRE.MatchString(pg.body):
			pg = b.postSAMLForm(pg)
		default:
			p.t.Fatalf("unexpected page %s (status %d): %.500s", pg.url, pg.status, pg.body)
		}
	}
	p.t.Fatalf("no portal page after %d steps", len(trail))
	return portalSeen{}, nil
}

// samlResponseStatus decodes the SAMLResponse of the form on pg and
// returns its status: the second-level code when there is one.
func samlResponseStatus(t testing.TB, pg page) (string, *saml.Response) {
	t.Helper()
	m := samlFormRE.FindStringSubmatch(pg.body)
	if m == nil {
		t.Fatalf("no SAML form (status %d): %.500s", pg.status, pg.body)
	}
	var raw string
	for _, in := range samlInputRE.FindAllStringSubmatch(m[2], -1) {
		if in[1] == "SAMLResponse" {
			raw = html.UnescapeString(in[2])
		}
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("SAMLResponse: %v", err)
	}
	return statusOf(t, b)
}

func statusOf(t testing.TB, b []byte) (string, *saml.Response) {
	t.Helper()
	var resp saml.Response
	if err := xml.Unmarshal(b, &resp); err != nil {
		t.Fatalf("parse Response: %v", err)
	}
	code := resp.Status.StatusCode.Value
	if resp.Status.StatusCode.StatusCode != nil {
		code = resp.Status.StatusCode.StatusCode.Value
	}
	return code[strings.LastIndex(code, ":")+1:], &resp
}

// getEN opens u asking for English pages.
func (b *browser) getEN(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Language", "en")
	return b.do(req)
}

// hasSession reports whether the browser holds a CitizenID session cookie.
func (b *browser) hasSession(e *env) bool {
	u, _ := url.Parse(e.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.Contains(c.Name, "citizenid") && c.Name != "citizenid_lang" && c.Value != "" {
			if _, err := e.Sessions.Peek(context.Background(), c.Value); err == nil {
				return true
			}
		}
	}
	return false
}

func wantNoLoginForm(t *testing.T, trail []page) {
	t.Helper()
	for _, pg := range trail {
		if isLoginForm(pg) {
			t.Fatalf("single sign-on: got the login form at %s, want none", pg.url)
		}
	}
}

func TestSAMLLogin(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		redirect := newSAMLPortal(t, e, "Cổng thuế cũ", nil, func(s *citizensaml.SPSpec) {
			s.Attributes = []string{"name", "birthdate", "identity_level"}
		})
		post := newSAMLPortal(t, e, "Cổng bảo hiểm", func(o *samlsp.Options) {
			o.Binding, o.SignRequest = saml.HTTPPostBinding, true
		}, func(s *citizensaml.SPSpec) { s.RequireSignedRequests = true })
		post.mw.ServiceProvider.AuthnNameIDFormat = saml.TransientNameIDFormat
		b := newBrowser(t)

		// HTTP-Redirect binding: the password page, then the assertion.
		seen, trail := redirect.hello(b, e.URL, testNumber, testPassword)
		if !isLoginForm(trail[0]) {
			t.Fatalf("first page: got %s, want the login form", trail[0].url)
		}
		if seen.NameIDFormat != citizensaml.NameIDPersistent || seen.NameID == "" || strings.Contains(seen.NameID, testNumber) {
			t.Errorf("NameID: got %q (%s), want a persistent pairwise identifier", seen.NameID, seen.NameIDFormat)
		}
		if seen.ClassRef != "urn:citizenid:loa:1" || seen.Audience != redirect.entityID || seen.SessionIndex == "" {
			t.Errorf("assertion: got class %q audience %q session index %q", seen.ClassRef, seen.Audience, seen.SessionIndex)
		}
		if d := time.Since(seen.AuthnInstant); d < 0 || d > time.Minute {
			t.Errorf("AuthnInstant: got %v, want the login just now", seen.AuthnInstant)
		}
		for attr, want := range map[string]string{"name": "Trần Thị Bình", "birthdate": "1990-05-17", "identity_level": "1"} {
			if got := seen.Attributes[attr]; len(got) != 1 || got[0] != want {
				t.Errorf("attribute %s: got %v, want %q", attr, got, want)
			}
		}
		if _, ok := seen.Attributes["citizen_number"]; ok {
			t.Error("citizen_number released to a portal not allowed it")
		}

		// HTTP-POST binding, a cross-site POST, in the same browser: no
		// login, a transient identifier as asked, only identity_level.
		seen2, trail := post.hello(b, e.URL, "", "")
		wantNoLoginForm(t, trail)
		if seen2.NameIDFormat != citizensaml.NameIDTransient || seen2.NameID == "" || seen2.NameID == seen.NameID {
			t.Errorf("transient NameID: got %q (%s)", seen2.NameID, seen2.NameIDFormat)
		}
		if _, ok := seen2.Attributes["name"]; ok || len(seen2.Attributes["identity_level"]) != 1 {
			t.Errorf("attributes of the POST portal: got %v, want identity_level only", seen2.Attributes)
		}

		// Another login: the persistent identifier stays, the transient one changes.
		b2 := newBrowser(t)
		again, _ := redirect.hello(b2, e.URL, testNumber, testPassword)
		again2, _ := post.hello(b2, e.URL, "", "")
		if again.NameID != seen.NameID {
			t.Errorf("persistent NameID changed between sessions: %q then %q", seen.NameID, again.NameID)
		}
		if again2.NameID == seen2.NameID {
			t.Error("transient NameID repeated in another session")
		}
	})
}

func TestSAMLCitizenNumberOnlyWhereAllowed(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng được phép", nil, func(s *citizensaml.SPSpec) {
		s.AllowCitizenNumber, s.NameIDFormat, s.Attributes = true, "citizen-number", []string{"citizen_number", "identity_level"}
	})
	seen, _ := p.hello(newBrowser(t), e.URL, testNumber, testPassword)
	if seen.NameID != testNumber || seen.NameIDFormat != citizensaml.NameIDCitizenNumber {
		t.Errorf("NameID: got %q (%s), want the citizen number", seen.NameID, seen.NameIDFormat)
	}
	if got := seen.Attributes["citizen_number"]; len(got) != 1 || got[0] != testNumber {
		t.Errorf("citizen_number: got %v", got)
	}
	// A portal not allowed it cannot ask for it.
	other := newSAMLPortal(t, e, "Cổng khác", nil, nil)
	other.mw.ServiceProvider.AuthnNameIDFormat = saml.NameIDFormat(citizensaml.NameIDCitizenNumber)
	b := newBrowser(t)
	pg := b.get(other.srv.URL + "/hello")
	if status, _ := samlResponseStatus(t, pg); status != "InvalidNameIDPolicy" {
		t.Errorf("citizen-number NameID asked by a portal not allowed it: got status %s, want InvalidNameIDPolicy", status)
	}
	if b.hasSession(e) {
		t.Error("a refused request logged the citizen in")
	}
}

func TestSAMLStepUp(t *testing.T) {
	s := newStepUp(t, false)
	loa := func(n string) string { return "urn:citizenid:loa:" + n }
	clock := dsigClock(s.clk.Now)
	level2 := newSAMLPortal(t, s.e, "Cổng cần mức 2", func(o *samlsp.Options) {
		o.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "minimum", AuthnContextClassRefs: []string{loa("2")}}
		o.Clock = clock
	}, nil)
	exact1 := newSAMLPortal(t, s.e, "Cổng mức 1", func(o *samlsp.Options) {
		o.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRefs: []string{loa("1")}}
		o.Clock = clock
	}, nil)
	b := stoppingBrowser(t)

	// Level 1 through an OIDC portal.
	pg, v := s.authorize(b, nil)
	claims, _ := s.tokens(b.login(s.e.URL, pg, testNumber, testPassword), v)
	wantACR(t, claims, loa("1"), "pwd")

	// No authenticator: level 2 cannot be reached; the portal hears NoAuthnContext.
	pg = b.get(level2.srv.URL + "/hello")
	if status, _ := samlResponseStatus(t, leaveUnmet(t, b, pg, "2")); status != "NoAuthnContext" {
		t.Fatalf("level 2 without an authenticator: got %s, want NoAuthnContext", status)
	}

	secret, _ := s.enrol(b)

	// Step-up: only the code, then an assertion at level 2 whose
	// AuthnInstant is the time of the code.
	pg = b.get(level2.srv.URL + "/hello")
	if !isTOTPForm(pg) || isLoginForm(pg) {
		t.Fatalf("step-up: got %d %.300s, want only the code page", pg.status, pg.body)
	}
	code := s.code(secret)
	at := s.clk.Now()
	pg = b.postSAMLForm(s.submitCode(b, pg, "totp", code))
	var seen portalSeen
	if err := json.Unmarshal([]byte(pg.body), &seen); err != nil {
		t.Fatalf("portal page: %v %.300s", err, pg.body)
	}
	if seen.ClassRef != loa("2") {
		t.Errorf("AuthnContextClassRef: got %q, want %s", seen.ClassRef, loa("2"))
	}
	if d := seen.AuthnInstant.Sub(at); d < -time.Second || d > time.Second {
		t.Errorf("AuthnInstant: got %v, want the time of the code %v", seen.AuthnInstant, at)
	}
	// The OIDC side sees the same session at level 2.
	pg, v = s.authorize(b, map[string]string{"acr_values": loa("2"), "prompt": "none"})
	claims, _ = s.tokens(pg, v)
	wantACR(t, claims, loa("2"), "pwd", "otp", "mfa")

	// exact: the portal listed level 1 only; the assertion says level 1,
	// which the level-2 session covers, never more than was asked.
	seen, trail := exact1.hello(b, s.e.URL, "", "")
	wantNoLoginForm(t, trail)
	if seen.ClassRef != loa("1") {
		t.Errorf("exact loa:1 with a level-2 session: got %q, want %s", seen.ClassRef, loa("1"))
	}
}

func TestSAMLPassiveAndForceAuthn(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", nil, nil)
	request := func(edit func(*saml.AuthnRequest)) string {
		sp := &p.mw.ServiceProvider
		req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		edit(req)
		u, err := req.Redirect("", sp)
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	yes := true
	b := newBrowser(t)

	// IsPassive without a session: NoPassive, no login page.
	pg := b.get(request(func(r *saml.AuthnRequest) { r.IsPassive = &yes }))
	if isLoginForm(pg) {
		t.Fatal("IsPassive: got the login form")
	}
	if status, _ := samlResponseStatus(t, pg); status != "NoPassive" {
		t.Errorf("IsPassive without a session: got %s, want NoPassive", status)
	}

	// With a session, IsPassive succeeds silently.
	p.hello(b, e.URL, testNumber, testPassword)
	pg = b.get(request(func(r *saml.AuthnRequest) { r.IsPassive = &yes }))
	if status, _ := samlResponseStatus(t, pg); status != "Success" {
		t.Errorf("IsPassive with a session: got %s, want Success", status)
	}

	// ForceAuthn: the password again, although the session is fresh.
	pg = b.get(request(func(r *saml.AuthnRequest) { r.ForceAuthn = &yes }))
	if !isLoginForm(pg) {
		t.Fatalf("ForceAuthn: got %d %.300s, want the login form", pg.status, pg.body)
	}
	pg = b.login(e.URL, pg, testNumber, testPassword)
	if status, _ := samlResponseStatus(t, pg); status != "Success" {
		t.Errorf("ForceAuthn after the password: got %s, want Success", status)
	}
}

func TestSAMLIdPInitiated(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng mở từ liên kết", func(o *samlsp.Options) { o.AllowIDPInitiated = true },
		func(s *citizensaml.SPSpec) { s.AllowIdPInitiated = true })
	closed := newSAMLPortal(t, e, "Cổng đóng", nil, nil)
	b := newBrowser(t)

	link := e.URL + "/saml/idp-initiated?sp=" + url.QueryEscape(p.entityID) + "&RelayState=" + url.QueryEscape("/hello?from=citizenid")
	pg := b.get(link)
	if !isLoginForm(pg) {
		t.Fatalf("IdP-initiated: got %d %.300s, want the login form", pg.status, pg.body)
	}
	form := b.login(e.URL, pg, testNumber, testPassword)
	status, resp := samlResponseStatus(t, form)
	if status != "Success" || resp.InResponseTo != "" {
		t.Errorf("unsolicited response: got status %s InResponseTo %q", status, resp.InResponseTo)
	}
	pg = b.postSAMLForm(form)
	if pg.status != http.StatusOK || pg.url.Path != "/hello" || pg.url.RawQuery != "from=citizenid" {
		t.Fatalf("after the unsolicited response: got %d at %s, want the RelayState page /hello?from=citizenid", pg.status, pg.url)
	}

	pg = b.getEN(e.URL + "/saml/idp-initiated?sp=" + url.QueryEscape(closed.entityID))
	if pg.status != http.StatusForbidden || !strings.Contains(pg.body, "cannot be opened from here") {
		t.Errorf("IdP-initiated to a portal that does not allow it: got %d %.300s", pg.status, pg.body)
	}
	pg = b.getEN(e.URL + "/saml/idp-initiated?sp=" + url.QueryEscape(p.entityID) + "&RelayState=" + strings.Repeat("x", 81))
	if pg.status != http.StatusBadRequest {
		t.Errorf("RelayState over 80 bytes: got %d, want 400", pg.status)
	}
}

func TestSAMLEncryptedAssertion(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng mã hoá", nil, func(s *citizensaml.SPSpec) {
		s.EncryptAssertions, s.Attributes = true, []string{"name"}
	})
	seen, _ := p.hello(newBrowser(t), e.URL, testNumber, testPassword)
	if got := seen.Attributes["name"]; len(got) != 1 || got[0] != "Trần Thị Bình" {
		t.Errorf("attribute from the encrypted assertion: got %v", got)
	}
	raw := string(p.lastResponse())
	if !strings.Contains(raw, "EncryptedAssertion") || strings.Contains(raw, "Trần Thị Bình") || strings.Contains(raw, ":Assertion ") {
		t.Errorf("response: want only an EncryptedAssertion, got %.600s", raw)
	}
	if !strings.Contains(raw, "xmlenc11#aes256-gcm") {
		t.Errorf("block cipher: want AES-256-GCM (the portal lists it), got %.600s", raw)
	}
}

// One SSO session for both protocols: an OIDC login serves a SAML portal
// and the other way round.
func TestSAMLSharesTheSessionWithOIDC(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	oidcPortal := newPortal(t, e, "tax-portal", []string{"openid"}, nil)
	sp := newSAMLPortal(t, e, "Cổng SAML", nil, nil)

	b := newBrowser(t)
	tok := oidcPortal.loginThrough(t, b, e, testNumber, testPassword)
	_, trail := sp.hello(b, e.URL, "", "")
	wantNoLoginForm(t, trail)
	sid, _ := tok.IDTokenClaims.Claims["sid"].(string)
	sess, err := e.Sessions.BySID(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Joined("oidc", "tax-portal") || !sess.Joined("saml", sp.entityID) || len(sess.Participants) != 2 {
		t.Errorf("session participants: got %+v, want the OIDC client and the SAML portal, once each", sess.Participants)
	}

	b2 := newBrowser(t)
	sp.hello(b2, e.URL, testNumber, testPassword)
	if pg := b2.get(oidcPortal.srv.URL + "/login"); pg.body != "portal: logged in" {
		t.Fatalf("OIDC after SAML: got %d %.300s, want no login", pg.status, pg.body)
	}
	<-oidcPortal.tokens
}

// headerTransport adds headers to every request, as a reverse proxy would.
type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header[k] = v
	}
	return h.base.RoundTrip(r)
}

// Behind a trusted reverse proxy, the assertion's client address is the
// one the proxy saw, not the proxy's.
func TestSAMLClientAddressBehindProxy(t *testing.T) {
	e := start(t, false, func(c *config.Config) { c.Server.TrustedProxies = []string{"127.0.0.1"} })
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", nil, nil)
	b := newBrowser(t)
	b.c.Transport = headerTransport{base: http.DefaultTransport, header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}}
	p.hello(b, e.URL, testNumber, testPassword)
	raw := string(p.lastResponse())
	if !strings.Contains(raw, `SubjectConfirmationData Address="203.0.113.7"`) || !strings.Contains(raw, `SubjectLocality Address="203.0.113.7"`) {
		t.Errorf("client address: want 203.0.113.7 in the assertion, got %.400s", raw[strings.Index(raw, "<saml:Subject>"):])
	}
}

// A portal that fetched the metadata before a key rotation keeps
// accepting assertions after it: the new key's certificate was published
// while it was the next key.
func TestSAMLKeyRolloverWithPinnedMetadata(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", nil, nil) // holds the metadata from before the rotation
	if _, err := e.Keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen, _ := p.hello(newBrowser(t), e.URL, testNumber, testPassword)
	if seen.NameID == "" {
		t.Fatal("no assertion after the rotation")
	}
	active, err := e.Keys.Signing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pinned := p.mw.ServiceProvider.IDPMetadata.IDPSSODescriptors[0].KeyDescriptors
	var found bool
	for _, kd := range pinned {
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
			if cert, err := x509.ParseCertificate(der); err == nil && cert.PublicKey.(*rsa.PublicKey).Equal(active.Public) {
				found = true
			}
		}
	}
	if !found {
		t.Error("the key signing after the rotation was not in the metadata the portal pinned before it")
	}
}

// A citizen may take longer to log in than crewjam's MaxIssueDelay (90
// seconds from the request's IssueInstant): the response is built from
// the request kept on arrival, not from the request checked again.
func TestSAMLSlowLogin(t *testing.T) {
	clk := newClock()
	e := startWith(t, false, nil, app.BuildOptions{Now: clk.Now})
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", func(o *samlsp.Options) { o.Clock = dsigClock(clk.Now) }, nil)
	b := newBrowser(t)
	pg := b.get(p.srv.URL + "/hello")
	if !isLoginForm(pg) {
		t.Fatalf("got %d %.200s, want the login form", pg.status, pg.body)
	}
	clk.Advance(5 * time.Minute)
	pg = b.postSAMLForm(b.login(e.URL, pg, testNumber, testPassword))
	if pg.header.Get("Content-Type") != "application/json" {
		t.Fatalf("after a five-minute login: got %d %.300s, want the portal's page", pg.status, pg.body)
	}
}
