package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

// stepUp is a portal with a clocked CitizenID, for assurance tests.
type stepUp struct {
	t     *testing.T
	e     *env
	clk   *clock
	conf  *oauth2.Config
	jwks  string
	codes map[string]bool // TOTP codes already accepted (to detect a repeat step)
}

func newStepUp(t *testing.T, production bool) *stepUp {
	clk := newClock()
	e := startWith(t, production, func(c *config.Config) {
		c.Session.IdleTimeout, c.Session.AbsoluteTimeout = 3*time.Hour, 48*time.Hour
	}, app.BuildOptions{Now: clk.Now})
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	return &stepUp{t: t, e: e, clk: clk, jwks: e.URL + "/keys", codes: map[string]bool{},
		conf: &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL,
			Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"},
			Scopes:   []string{"openid", "profile", "offline_access"}}}
}

// authorize starts an authorization request with extra parameters.
func (s *stepUp) authorize(b *browser, params map[string]string) (page, string) {
	v := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}
	for k, val := range params {
		opts = append(opts, oauth2.SetAuthURLParam(k, val))
	}
	return b.get(s.conf.AuthCodeURL("st", opts...)), v
}

// tokens exchanges the code the portal received and checks the ID token.
func (s *stepUp) tokens(pg page, verifier string) (map[string]any, *oauth2.Token) {
	s.t.Helper()
	q := portalRedirect(s.t, pg)
	if q.Get("code") == "" {
		s.t.Fatalf("no code: %v", q)
	}
	tok, err := s.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		s.t.Fatal(err)
	}
	return verifyIDToken(s.t, s.e.URL, s.jwks, tok.Extra("id_token").(string), "portal"), tok
}

func wantACR(t *testing.T, claims map[string]any, acr string, amr ...string) {
	t.Helper()
	if claims["acr"] != acr {
		t.Errorf("acr: got %v, want %s", claims["acr"], acr)
	}
	var got []string
	for _, v := range claims["amr"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, amr) {
		t.Errorf("amr: got %v, want %v", got, amr)
	}
}

func isTOTPForm(p page) bool {
	return strings.Contains(p.body, `autocomplete="one-time-code"`) && strings.Contains(p.body, `name="step" value="totp"`)
}

// submitCode posts a code on a TOTP or recovery page.
func (s *stepUp) submitCode(b *browser, p page, step, code string) page {
	s.t.Helper()
	m := actionRE.FindStringSubmatch(p.body)
	if m == nil {
		s.t.Fatalf("no form on the page (%d): %.300s", p.status, p.body)
	}
	return b.post(s.e.URL+m[1], url.Values{"step": {step}, "code": {code}})
}

// code returns the app's current code, moving the clock to a new time step
// when the current one was already used.
func (s *stepUp) code(secret string) string {
	s.t.Helper()
	for {
		c, err := totp.Code(secret, s.clk.Now())
		if err != nil {
			s.t.Fatal(err)
		}
		if !s.codes[c] {
			s.codes[c] = true
			return c
		}
		s.clk.Advance(30 * time.Second)
	}
}

// wrongCode returns a well-formed code that no time step near now gives
// for secret, so that a test of a refusal cannot meet the right code by
// chance (a few times in a million with a fixed one).
func wrongCode(t testing.TB, secret string, now time.Time) string {
	t.Helper()
	valid := map[string]bool{}
	for d := -3; d <= 3; d++ {
		c, err := totp.Code(secret, now.Add(time.Duration(d)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", 123456+i); !valid[c] {
			return c
		}
	}
}

var (
	secretRE   = regexp.MustCompile(`data-copy="([A-Z2-7]+)"`)
	otpauthRE  = regexp.MustCompile(`href="(otpauth://[^"]+)"`)
	recoveryRE = regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`)
)

// enrol sets up TOTP through the account page and returns the secret and
// the recovery codes.
func (s *stepUp) enrol(b *browser) (string, []string) {
	s.t.Helper()
	pg := b.get(s.e.URL + "/account/security")
	if !strings.Contains(pg.body, `action="/account/security/totp"`) {
		s.t.Fatalf("account page: got %d %.300s, want the set-up button", pg.status, pg.body)
	}
	pg = b.post(s.e.URL+"/account/security/totp", nil)
	m, link := secretRE.FindStringSubmatch(pg.body), otpauthRE.FindStringSubmatch(pg.body)
	if m == nil || link == nil || !strings.Contains(pg.body, `src="data:image/png;base64,`) {
		s.t.Fatalf("enrolment page lacks the key, the otpauth link or the QR image: %.500s", pg.body)
	}
	u, err := url.Parse(strings.ReplaceAll(link[1], "&amp;", "&"))
	if err != nil || u.Query().Get("secret") != m[1] || u.Query().Get("digits") != "6" {
		s.t.Fatalf("otpauth link %q does not carry the secret and 6 digits", link[1])
	}
	pg = b.post(s.e.URL+"/account/security/totp/confirm", url.Values{"code": {wrongCode(s.t, m[1], s.clk.Now())}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, m[1]) {
		s.t.Fatalf("wrong confirmation code: got %d, want 422 and the same key again", pg.status)
	}
	pg = b.post(s.e.URL+"/account/security/totp/confirm", url.Values{"code": {s.code(m[1])}})
	var codes []string
	for _, c := range recoveryRE.FindAllStringSubmatch(pg.body, -1) {
		codes = append(codes, c[1])
	}
	if len(codes) != 10 {
		s.t.Fatalf("recovery codes: got %d, want 10 (%.300s)", len(codes), pg.body)
	}
	return m[1], codes
}

func TestStepUpWithTOTP(t *testing.T) {
	for _, production := range []bool{false, true} {
		name := map[bool]string{false: "embedded", true: "postgres"}[production]
		t.Run(name, func(t *testing.T) { testStepUp(t, production) })
	}
}

func testStepUp(t *testing.T, production bool) {
	s := newStepUp(t, production)
	loa := func(n string) string { return "urn:citizenid:loa:" + n }
	b := stoppingBrowser(t)

	// Level 1 with a password.
	pg, v := s.authorize(b, nil)
	claims, _ := s.tokens(b.login(s.e.URL, pg, testNumber, testPassword), v)
	wantACR(t, claims, loa("1"), "pwd")
	sid := claims["sid"]

	// No authenticator yet: level 2 cannot be reached.
	pg, _ = s.authorize(b, map[string]string{"acr_values": loa("2")})
	if q := portalRedirect(t, leaveUnmet(t, b, pg, "2")); q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != "st" {
		t.Fatalf("level 2 without TOTP: got %v, want unmet_authentication_requirements", q)
	}

	secret, recovery := s.enrol(b)

	// prompt=none below the level: interaction_required.
	pg, _ = s.authorize(b, map[string]string{"acr_values": loa("2"), "prompt": "none"})
	if q := portalRedirect(t, pg); q.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none at level 1 asking level 2: got %v, want interaction_required", q)
	}

	// Step-up in the same session: only the code is asked.
	pg, v = s.authorize(b, map[string]string{"acr_values": loa("2") + " " + loa("3")})
	if !isTOTPForm(pg) || isLoginForm(pg) {
		t.Fatalf("step-up: got %d %.300s, want only the code page", pg.status, pg.body)
	}
	claims, tok := s.tokens(s.submitCode(b, pg, "totp", s.code(secret)), v)
	wantACR(t, claims, loa("2"), "pwd", "otp", "mfa")
	if claims["sid"] != sid {
		t.Error("step-up started a new session")
	}
	// The level survives refresh.
	next, err := s.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	wantACR(t, verifyIDToken(t, s.e.URL, s.jwks, next.Extra("id_token").(string), "portal"), loa("2"), "pwd", "otp", "mfa")

	// An essential acr claim is honoured like acr_values, and the fresh
	// session satisfies it silently.
	essential, _ := json.Marshal(map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true, "values": []string{loa("2")}}}})
	pg, v = s.authorize(b, map[string]string{"claims": string(essential), "prompt": "none"})
	claims, _ = s.tokens(pg, v)
	wantACR(t, claims, loa("2"), "pwd", "otp", "mfa")

	// Level 2 decays after an hour without activity; the same request steps up again, code only.
	s.clk.Advance(2 * time.Hour)
	pg, v = s.authorize(b, nil)
	claims, _ = s.tokens(pg, v)
	wantACR(t, claims, loa("1"), "pwd")
	pg, v = s.authorize(b, map[string]string{"acr_values": loa("2")})
	if !isTOTPForm(pg) {
		t.Fatalf("after the level-2 limit: got %.300s, want the code page", pg.body)
	}
	used := s.code(secret)
	claims, _ = s.tokens(s.submitCode(b, pg, "totp", used), v)
	wantACR(t, claims, loa("2"), "pwd", "otp", "mfa")

	// A fresh login of a citizen with a second factor asks for it, even for level 1,
	// and the code just used (same time step) is refused.
	b2 := stoppingBrowser(t)
	pg, v = s.authorize(b2, nil)
	pg = b2.login(s.e.URL, pg, testNumber, testPassword)
	if !isTOTPForm(pg) {
		t.Fatalf("fresh login with TOTP enrolled: got %.300s, want the code page", pg.body)
	}
	if again := s.submitCode(b2, pg, "totp", used); again.status != http.StatusUnauthorized || !isTOTPForm(again) {
		t.Fatalf("replayed code: got %d, want 401 and the code page", again.status)
	}
	claims, _ = s.tokens(s.submitCode(b2, pg, "totp", s.code(secret)), v)
	wantACR(t, claims, loa("2"), "pwd", "otp", "mfa") // the level actually reached, not the one asked

	// Wrong codes are throttled.
	b3 := stoppingBrowser(t)
	pg, v = s.authorize(b3, nil)
	totpPage := b3.login(s.e.URL, pg, testNumber, testPassword)
	if !isTOTPForm(totpPage) {
		t.Fatalf("fresh login with TOTP enrolled: got %d %.300s, want the code page", totpPage.status, totpPage.body)
	}
	var statuses []int
	for range s.e.Config.Login.FreeFailures + 1 {
		statuses = append(statuses, s.submitCode(b3, totpPage, "totp", wrongCode(t, secret, s.clk.Now())).status)
	}
	if statuses[len(statuses)-1] != http.StatusTooManyRequests {
		t.Fatalf("wrong codes: got %v, want 401s then 429", statuses)
	}
	s.clk.Advance(20 * time.Minute) // the delay passes

	// A recovery code gives level 1 only and removes the app.
	action := s.e.URL + actionRE.FindStringSubmatch(totpPage.body)[1]
	pg = b3.post(action, url.Values{"step": {"totp"}, "use": {"recovery"}})
	if !strings.Contains(pg.body, `name="step" value="recovery"`) {
		t.Fatalf("recovery page: got %.300s", pg.body)
	}
	pg = s.submitCode(b3, pg, "recovery", " "+strings.ToUpper(recovery[3])+" ")
	if !strings.Contains(pg.body, `name="step" value="recovered"`) {
		t.Fatalf("after a recovery code: got %.300s, want the re-enrolment notice", pg.body)
	}
	claims, _ = s.tokens(b3.post(action, url.Values{"step": {"recovered"}}), v)
	wantACR(t, claims, loa("1"), "pwd")
	c, _ := s.e.Store.CitizenByNumber(context.Background(), testNumber)
	if enrolled, err := s.e.TOTP.Enrolled(context.Background(), c.ID); err != nil || enrolled {
		t.Errorf("after recovery: TOTP enrolled %v (err %v), want removed so the citizen re-enrols", enrolled, err)
	}
	// The same recovery code does not work twice (the app is gone too, so
	// the next level-2 request is unmet).
	pg, _ = s.authorize(b3, map[string]string{"acr_values": loa("2")})
	if q := portalRedirect(t, leaveUnmet(t, b3, pg, "2")); q.Get("error") != "unmet_authentication_requirements" {
		t.Errorf("level 2 after recovery: got %v, want unmet_authentication_requirements", q)
	}
}

func TestDiscoveryPublishesACRValues(t *testing.T) {
	e := start(t, false, nil)
	var d struct {
		ACR    []string `json:"acr_values_supported"`
		Claims bool     `json:"claims_parameter_supported"`
	}
	getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
	want := []string{"urn:citizenid:loa:1", "urn:citizenid:loa:2", "urn:citizenid:loa:3", "urn:citizenid:loa:4"}
	if !slices.Equal(d.ACR, want) || !d.Claims {
		t.Errorf("got acr_values_supported %v claims_parameter_supported %v, want %v true", d.ACR, d.Claims, want)
	}
}

func TestClientMinimumLevel(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Tax", RedirectURIs: []string{cbURL}, MinLevel: 2})
	b := stoppingBrowser(t)
	pg := b.login(e.URL, b.get(authorize(e, nil)), testNumber, testPassword)
	if q := portalRedirect(t, leaveUnmet(t, b, pg, "2")); q.Get("error") != "unmet_authentication_requirements" {
		t.Errorf("client min level 2, citizen without TOTP: got %v, want unmet_authentication_requirements", q)
	}
	// The citizen is still logged in (level 1) for portals that need less.
	if pg := b.get(e.URL + "/account/security"); pg.status != http.StatusOK || isLoginForm(pg) {
		t.Errorf("account page after an unmet request: got %d, want the page without a new login", pg.status)
	}
}

// Removing the authenticator app needs a fresh level-2 login; with only
// the password the citizen is asked for a code first.
func TestRemovingTOTPNeedsLevel2(t *testing.T) {
	s := newStepUp(t, false)
	b := stoppingBrowser(t)
	pg, _ := s.authorize(b, nil)
	portalRedirect(t, b.login(s.e.URL, pg, testNumber, testPassword))
	secret, _ := s.enrol(b)
	c, _ := s.e.Store.CitizenByNumber(context.Background(), testNumber)
	enrolled := func() bool {
		ok, err := s.e.TOTP.Enrolled(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	pg = b.post(s.e.URL+"/account/security/totp/remove", nil)
	if !isTOTPForm(pg) || !enrolled() {
		t.Fatalf("remove at level 1: got %d %.200s (enrolled %v), want the code page and nothing removed", pg.status, pg.body, enrolled())
	}
	// After the code, the removal the citizen asked for is carried out.
	pg = s.submitCode(b, pg, "totp", s.code(secret))
	if enrolled() || !strings.Contains(pg.body, `action="/account/security/totp"`) {
		t.Fatalf("after the code: enrolled %v, page %.200s; want removed", enrolled(), pg.body)
	}
	events, _ := s.e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "totp.remove"})
	if len(events) != 1 || events[0].Actor != "citizen:"+c.ID {
		t.Errorf("audit: got %d totp.remove events, want 1 by the citizen", len(events))
	}
}
