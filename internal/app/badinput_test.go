package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

const cbURL = "http://127.0.0.1:9/cb" // the browser stops before contacting it

// authorize builds an authorization URL with sane defaults that params override.
func authorize(e *env, params map[string]string) string {
	v := url.Values{
		"client_id":             {"portal"},
		"redirect_uri":          {cbURL},
		"response_type":         {"code"},
		"scope":                 {"openid profile"},
		"state":                 {"st-1"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	for k, val := range params {
		if val == "" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	return e.URL + "/authorize?" + v.Encode()
}

func stoppingBrowser(t *testing.T) *browser {
	b := newBrowser(t)
	b.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), cbURL) }
	return b
}

// portalRedirect returns the query the portal receives, or fails.
func portalRedirect(t *testing.T, pg page) url.Values {
	t.Helper()
	loc := pg.header.Get("Location")
	if pg.status/100 != 3 || !strings.HasPrefix(loc, cbURL) {
		t.Fatalf("got status %d location %q body %.200s, want a redirect to the portal", pg.status, loc, pg.body)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

func TestAuthorizeBadInput(t *testing.T) {
	backends(t, testAuthorizeBadInput)
}

func testAuthorizeBadInput(t *testing.T, e *env) {
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addClient(t, clients.Spec{ID: "app", Name: "App", Public: true, RedirectURIs: []string{cbURL}})

	// Errors that must never redirect: the redirect target cannot be trusted.
	pages := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"unknown client", map[string]string{"client_id": "nope"}, "not registered with CitizenID"},
		{"missing client", map[string]string{"client_id": ""}, "not registered with CitizenID"},
		// PostgreSQL's text holds no NUL: no lookup, no "briefly unavailable".
		{"client ID with a NUL byte", map[string]string{"client_id": "portal\x00"}, "not registered with CitizenID"},
		{"client ID that is not UTF-8", map[string]string{"client_id": "portal\xff"}, "not registered with CitizenID"},
		{"unregistered redirect URI", map[string]string{"redirect_uri": "http://127.0.0.1:9/evil"}, "return address is not registered"},
		{"redirect URI with extra path", map[string]string{"redirect_uri": cbURL + "/x"}, "return address is not registered"},
		{"missing redirect URI", map[string]string{"redirect_uri": ""}, "return address is not registered"},
		{"implicit flow to an http redirect URI", map[string]string{"response_type": "token"}, ""},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			b := stoppingBrowser(t)
			req, _ := http.NewRequest("GET", authorize(e, tt.params), nil)
			req.Header.Set("Accept-Language", "en")
			pg := b.do(req)
			if pg.status != http.StatusBadRequest || pg.header.Get("Location") != "" {
				t.Fatalf("got status %d location %q, want 400 and no redirect", pg.status, pg.header.Get("Location"))
			}
			if tt.want != "" && (!strings.Contains(pg.body, tt.want) || !strings.Contains(pg.body, `role="alert"`)) {
				t.Errorf("page: got %.300s, want %q in an alert", pg.body, tt.want)
			}
		})
	}

	// Errors the portal receives as standard OAuth redirects with state.
	redirects := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"plain PKCE", map[string]string{"code_challenge_method": "plain", "code_challenge": strings.Repeat("a", 43)}, "invalid_request"},
		{"PKCE method missing means plain", map[string]string{"code_challenge_method": ""}, "invalid_request"},
		{"public client without PKCE", map[string]string{"client_id": "app", "code_challenge": "", "code_challenge_method": ""}, "invalid_request"},
		{"prompt=none without session", map[string]string{"prompt": "none"}, "login_required"},
		{"prompt none with login", map[string]string{"prompt": "none login"}, "invalid_request"},
		{"no openid scope", map[string]string{"scope": "profile"}, "invalid_scope"},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			q := portalRedirect(t, stoppingBrowser(t).get(authorize(e, tt.params)))
			if q.Get("error") != tt.want || q.Get("state") != "st-1" || q.Get("code") != "" {
				t.Errorf("got error=%q state=%q code=%q, want error=%q state=st-1 and no code", q.Get("error"), q.Get("state"), q.Get("code"), tt.want)
			}
		})
	}
}

func TestLoginFormBadInput(t *testing.T) {
	e := start(t, false, nil)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)
	form := b.get(authorize(e, nil))
	action := e.URL + actionRE.FindStringSubmatch(form.body)[1]

	cases := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"number too long", url.Values{"number": {strings.Repeat("1", 5000)}, "password": {"x"}}.Encode(), 400, "exactly 12 digits"},
		{"number with letters", url.Values{"number": {"07920100012a"}, "password": {"x"}}.Encode(), 400, "exactly 12 digits"},
		{"duplicated fields", "number=" + testNumber + "&number=" + testNumber + "&password=a", 400, "not valid"},
		{"password over the limit", url.Values{"number": {testNumber}, "password": {strings.Repeat("p", 5000)}}.Encode(), 401, "is wrong"},
		{"invalid UTF-8", "number=" + testNumber + "&password=%ff%fe%fd", 401, "is wrong"},
		{"garbage encoding", "%%%&&&=;;", 400, ""},
		{"body over 1 MiB", "number=" + testNumber + "&password=" + strings.Repeat("a", 2<<20), 400, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", action, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("Accept-Language", "en")
			pg := b.do(req)
			if pg.status != tt.status || !strings.Contains(pg.body, tt.want) {
				t.Errorf("got %d %.200s, want %d containing %q", pg.status, pg.body, tt.status, tt.want)
			}
		})
	}

	t.Run("cross-origin post refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", action, strings.NewReader(url.Values{"number": {testNumber}, "password": {testPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if pg := b.do(req); pg.status != http.StatusForbidden {
			t.Errorf("got %d, want 403", pg.status)
		}
	})

	t.Run("unknown login transaction", func(t *testing.T) {
		pg := b.get(e.URL + "/login/not-a-transaction")
		if pg.status != http.StatusNotFound || !strings.Contains(pg.body, `role="alert"`) {
			t.Errorf("got %d, want 404 with an explanation", pg.status)
		}
	})
}

func TestPasswordThrottlingAndAudit(t *testing.T) {
	e := start(t, false, nil)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)
	form := b.get(authorize(e, nil))

	free := e.Config.Login.FreeFailures
	var last page
	for i := 0; i < free+1; i++ {
		last = b.login(e.URL, form, testNumber, "wrong password "+string(rune('a'+i)))
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: got %d (Retry-After %q), want 429 with Retry-After", free+1, last.status, last.header.Get("Retry-After"))
	}
	// Even the right password waits: the delay is not an oracle.
	if pg := b.login(e.URL, form, testNumber, testPassword); pg.status != http.StatusTooManyRequests {
		t.Fatalf("right password while throttled: got %d, want 429", pg.status)
	}
	// Another citizen from another address is not affected... but this
	// test's address is the same, and the per-address limit is higher.
	events, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "login.password", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, ev := range events {
		counts[ev.Outcome]++
		if strings.Contains(ev.Details["citizen_number"], testNumber) {
			t.Fatalf("audit event holds the full citizen number: %v", ev.Details)
		}
	}
	if counts["failure"] != free || counts["throttled"] != 2 {
		t.Errorf("audit outcomes: got %v, want %d failures and 2 throttled", counts, free)
	}
	if err := store.VerifyAuditChain(events); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestSessionCookieTampering(t *testing.T) {
	e := start(t, false, nil)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)
	portalRedirect(t, b.login(e.URL, b.get(authorize(e, nil)), testNumber, testPassword))

	u, _ := url.Parse(e.URL)
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "citizenid" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie set")
	}
	// The genuine cookie gives single sign-on.
	if q := portalRedirect(t, b.get(authorize(e, nil))); q.Get("code") == "" {
		t.Fatal("SSO with the genuine cookie gave no code")
	}
	// One character changed (the first: the last of 43 carries only four
	// bits, so a fixed replacement there is the original one time in 16).
	flipped := "A"
	if cookie.Value[0] == 'A' {
		flipped = "B"
	}
	for _, v := range []string{flipped + cookie.Value[1:], cookie.Value + "x", "", strings.Repeat("A", 43), "%00"} {
		jar := newBrowser(t)
		jar.stop = b.stop
		jar.c.Jar.SetCookies(u, []*http.Cookie{{Name: "citizenid", Value: v}})
		pg := jar.get(authorize(e, nil))
		if !isLoginForm(pg) {
			t.Errorf("tampered cookie %q: got %d at %s (%s), want the login form", v, pg.status, pg.url, pg.header.Get("Location"))
		}
	}
}

func TestPromptLoginMaxAgeAndHint(t *testing.T) {
	e := start(t, false, nil)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)

	pg := b.get(authorize(e, map[string]string{"login_hint": testNumber, "ui_locales": "en"}))
	if !strings.Contains(pg.body, `value="`+testNumber+`"`) {
		t.Error("login_hint did not prefill the citizen number")
	}
	if !strings.Contains(pg.body, `lang="en"`) {
		t.Error("ui_locales=en did not choose English")
	}
	portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword))

	// With a session: prompt=none completes silently; prompt=login and
	// max_age=0 ask again.
	if q := portalRedirect(t, b.get(authorize(e, map[string]string{"prompt": "none"}))); q.Get("code") == "" {
		t.Errorf("prompt=none with a session: got %v, want a code", q)
	}
	for _, p := range []map[string]string{{"prompt": "login"}, {"max_age": "0"}} {
		pg := b.get(authorize(e, p))
		if !isLoginForm(pg) {
			t.Fatalf("%v: got %d, want the login form", p, pg.status)
		}
		if q := portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword)); q.Get("code") == "" {
			t.Fatalf("%v: no code after logging in again", p)
		}
	}
	if q := portalRedirect(t, b.get(authorize(e, map[string]string{"max_age": "3600"}))); q.Get("code") == "" {
		t.Error("max_age=3600 with a fresh session asked again")
	}
	// A disabled citizen's session no longer signs them in.
	c, _ := e.Store.CitizenByNumber(context.Background(), testNumber)
	e.Store.UpdateCitizen(context.Background(), c.ID, func(c *store.Citizen) error { c.Disabled = true; return nil })
	if q := portalRedirect(t, b.get(authorize(e, map[string]string{"prompt": "none"}))); q.Get("error") != "login_required" {
		t.Errorf("disabled citizen with prompt=none: got %v, want login_required", q)
	}
}

// /demo/ exists only under serve --demo; otherwise it is an unknown page
// like any other.
func TestDemoMountedOnlyInDemoMode(t *testing.T) {
	e := start(t, false, nil)
	if e.Demo != nil {
		t.Fatal("a demo mux without BuildOptions.Demo")
	}
	pg := newBrowser(t).get(e.URL + "/demo/")
	if pg.status != http.StatusNotFound || !strings.Contains(pg.body, `role="alert"`) {
		t.Errorf("GET /demo/: got %d %.200s, want CitizenID's 404 page", pg.status, pg.body)
	}
}
