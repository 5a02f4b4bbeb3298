package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

// attacker is an HTTP client with no cookies that follows no redirects:
// someone who learnt the URLs a victim's browser visits.
func attacker(t *testing.T) *browser {
	b := &browser{t: t}
	b.c = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return b
}

// recordingBrowser is a victim's browser that stops at the portal and
// records every URL it visits.
func recordingBrowser(t *testing.T, visited *[]string) *browser {
	b := newBrowser(t)
	b.stop = func(u *url.URL) bool {
		*visited = append(*visited, u.String())
		return strings.HasPrefix(u.String(), cbURL)
	}
	return b
}

// wantNoCode fails when pg hands an authorization code to anyone.
func wantNoCode(t *testing.T, what string, pg page) {
	t.Helper()
	if loc := pg.header.Get("Location"); strings.Contains(loc, "code=") || strings.Contains(pg.body, "code=") {
		t.Errorf("%s: got status %d location %q, want no code", what, pg.status, loc)
	}
}

// wantWorthless fails unless pg refuses the request (403: another
// browser's; 404: gone) without showing a login step.
func wantWorthless(t *testing.T, what string, pg page) {
	t.Helper()
	if pg.status != http.StatusForbidden && pg.status != http.StatusNotFound {
		t.Errorf("%s: got status %d, want 403 or 404 in another browser", what, pg.status)
	}
}

// An authorization code reaches only the browser that completed the
// login: a second client replaying every URL the victim's browser visits
// after /authorize gets nothing, and a login link started elsewhere is
// worthless in the victim's browser. A GET /authorize answers with the
// login's first step itself, whose form posts to the transaction's URL; a
// POST (cross-site, without the browser's cookies) goes through the login
// URL, where the first browser binds the request, like following a link
// to /authorize.
func TestCodeReachesOnlyTheBrowserThatLoggedIn(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
		e.addCitizen(t, testNumber, testPassword)
		var visited []string
		victim := recordingBrowser(t, &visited)
		evil := attacker(t)

		// startPOST starts a login by a POST to /authorize from b: the
		// answer is a redirect to the login URL.
		startPOST := func(b *browser, state string) page {
			t.Helper()
			u, _ := url.Parse(authorize(e, map[string]string{"state": state}))
			return b.post(e.URL+"/authorize", u.Query())
		}
		form := victim.get(authorize(e, nil))
		if !isLoginForm(form) {
			t.Fatalf("got %s (status %d), want the login form", form.url, form.status)
		}
		if len(visited) != 0 || !strings.Contains(form.url.String(), "/authorize?") {
			t.Errorf("GET /authorize: the victim visited %v and got the form at %s, want the form in the answer to /authorize itself (no hop through the login URL)", visited, form.url)
		}
		if cc := form.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET /authorize: the login form came with Cache-Control %q, want no-store (a cached form would bring back an ended login)", cc)
		}
		visited = append(visited, e.URL+actionRE.FindStringSubmatch(form.body)[1])
		replay := func(stage string) {
			for _, u := range visited {
				if !strings.HasPrefix(u, e.URL) || strings.Contains(u, "/authorize?") {
					continue
				}
				for _, pg := range []page{evil.get(u), evil.post(u, url.Values{"step": {"password"}})} {
					wantNoCode(t, stage+" "+u, pg)
					wantWorthless(t, stage+" "+u, pg)
				}
			}
			// The library's callback is not served, not even for a
			// request the caller knows the ID of.
			link := startPOST(evil, "attacker-"+stage).header.Get("Location")
			id, ok := strings.CutPrefix(link, "/login/oidc/")
			if !ok {
				t.Fatalf("%s: POST /authorize: got location %q, want the login URL", stage, link)
			}
			pg := evil.get(e.URL + "/authorize/callback?id=" + id)
			wantNoCode(t, stage+" callback", pg)
			if pg.status != http.StatusNotFound {
				t.Errorf("%s: /authorize/callback: got %d, want 404 (no addressable callback)", stage, pg.status)
			}
		}
		replay("during the login")

		done := victim.login(e.URL, form, testNumber, testPassword)
		if q := portalRedirect(t, done); q.Get("code") == "" || q.Get("state") != "st-1" {
			t.Fatalf("the victim's own login: got %v, want a code with state", q)
		}
		replay("after the login")

		// The attacker starts a login at the portal and sends the link to
		// the victim, who is logged in: the victim's browser refuses it.
		var link string
		if m := actionRE.FindStringSubmatch(evil.get(authorize(e, map[string]string{"state": "attacker"})).body); m != nil {
			link = m[1]
		}
		if !strings.HasPrefix(link, "/login/") || strings.HasPrefix(link, "/login/oidc/") {
			t.Fatalf("attacker's authorize: got a form posting to %q, want its login transaction", link)
		}
		link = e.URL + link
		pg := victim.get(link)
		wantNoCode(t, "attacker's link in the victim's browser", pg)
		if pg.status != http.StatusForbidden || !strings.Contains(pg.body, `role="alert"`) {
			t.Errorf("attacker's link in the victim's browser: got %d %.200s, want 403 with an explanation", pg.status, pg.body)
		}
		wantNoCode(t, "attacker polls after the victim opened the link", evil.get(link))
	})
}

// The same holds for SAML: the pending request and its login are
// worthless in another browser. An AuthnRequest by the redirect binding
// (a GET, with the browser's cookies) begins its login at once; one by
// the POST binding (cross-site, without them) continues through
// /saml/continue, where the browser binds it.
func TestSAMLResponseReachesOnlyTheBrowserThatLoggedIn(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
			p := newSAMLPortal(t, e, "Cổng SAML "+path.Base(binding), func(o *samlsp.Options) { o.Binding = binding }, nil)
			var visited []string
			victim := newBrowser(t)
			victim.stop = func(u *url.URL) bool { visited = append(visited, u.String()); return false }
			evil := attacker(t)

			form := victim.get(p.srv.URL + "/hello")
			if binding == saml.HTTPPostBinding {
				form = victim.postSAMLForm(form)
			}
			if !isLoginForm(form) {
				t.Fatalf("%s: got %s (status %d), want the login form", binding, form.url, form.status)
			}
			noAssertion := func(stage string) {
				for _, u := range visited {
					if !strings.HasPrefix(u, e.URL) || strings.Contains(u, "/saml/sso") {
						continue
					}
					for _, pg := range []page{evil.get(u), evil.post(u, url.Values{"step": {"password"}})} {
						if strings.Contains(pg.body, "SAMLResponse") {
							t.Errorf("%s, %s: replaying %s gave a SAMLResponse", binding, stage, u)
						}
						wantWorthless(t, binding+" "+stage+" "+u, pg)
					}
				}
			}
			noAssertion("during the login")
			done := victim.login(e.URL, form, testNumber, testPassword)
			if !strings.Contains(done.body, "SAMLResponse") {
				t.Fatalf("%s: the victim's own login: got status %d %.300s, want the SAML form", binding, done.status, done.body)
			}
			noAssertion("after the login")
			var continued bool
			for _, u := range visited {
				continued = continued || strings.Contains(u, "/saml/continue/")
			}
			if want := binding == saml.HTTPPostBinding; continued != want {
				t.Errorf("%s: visited /saml/continue %v, want %v: %v", binding, continued, want, visited)
			}
		}
	})
}

// eachBackend is backends with a configuration tweak.
func eachBackend(t *testing.T, tweak func(*config.Config), fn func(t *testing.T, e *env)) {
	t.Run("embedded", func(t *testing.T) { fn(t, start(t, false, tweak)) })
	t.Run("postgres", func(t *testing.T) { fn(t, start(t, true, tweak)) })
}

// burst posts forms to one URL concurrently from b, as a script would,
// and returns the statuses.
func (b *browser) burst(u string, forms []url.Values) []int {
	b.t.Helper()
	statuses := make([]int, len(forms))
	var wg sync.WaitGroup
	for i, form := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			pu, _ := url.Parse(u)
			req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := b.c.Do(req)
			if err != nil {
				b.t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	return statuses
}

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// from makes b's requests come from addr, through a trusted proxy.
func (b *browser) from(addr string) *browser {
	b.c.Transport = headerTransport{base: http.DefaultTransport, header: http.Header{"X-Forwarded-For": {addr}}}
	return b
}

// Throttling is decided and counted in one step: 30 concurrent wrong
// passwords get the policy's free checks and no more; the right password
// right after them waits too. A burst from one address leaves the
// citizen's login from another address working: nobody can lock a citizen
// out.
func TestPasswordBurstIsThrottledAtomically(t *testing.T) {
	behindProxy := func(c *config.Config) { c.Server.TrustedProxies = []string{"127.0.0.1"} }
	eachBackend(t, behindProxy, func(t *testing.T, e *env) {
		e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
		e.addCitizen(t, testNumber, testPassword)
		evil := stoppingBrowser(t).from("203.0.113.66")
		form := evil.get(authorize(e, nil))
		action := e.URL + actionRE.FindStringSubmatch(form.body)[1]
		var forms []url.Values
		for i := range 30 {
			forms = append(forms, url.Values{"number": {testNumber}, "password": {fmt.Sprintf("wrong guess %02d", i)}})
		}
		statuses := evil.burst(action, forms)
		free := e.Config.Login.FreeFailures
		if got := count(statuses, http.StatusUnauthorized); got != free || count(statuses, http.StatusTooManyRequests) != 30-free {
			t.Errorf("30 concurrent wrong passwords: got %d checked (401) and %d throttled, want %d and %d: %v",
				got, count(statuses, http.StatusTooManyRequests), free, 30-free, statuses)
		}
		if pg := evil.login(e.URL, form, testNumber, testPassword); pg.status != http.StatusTooManyRequests {
			t.Errorf("the right password from the throttled address: got %d, want 429", pg.status)
		}
		events, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "login.password", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		failures := 0
		for _, ev := range events {
			if ev.Outcome == "failure" {
				failures++
			}
		}
		if failures != free {
			t.Errorf("audited password checks that failed: got %d, want %d", failures, free)
		}

		citizen := stoppingBrowser(t).from("198.51.100.7")
		pg := citizen.login(e.URL, citizen.get(authorize(e, nil)), testNumber, testPassword)
		if q := portalRedirect(t, pg); q.Get("code") == "" {
			t.Errorf("the citizen from another address: got %v, want a code", q)
		}
	})
}

// Past the per-account limit (from every address together), password
// checks of the account are slowed, never refused.
func TestManyAddressesSlowButNeverLockOut(t *testing.T) {
	eachBackend(t, func(c *config.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1"}
		c.Login.AccountFreeFailures, c.Login.BaseDelay, c.Login.MaxSlowdown = 3, 200*time.Millisecond, 400*time.Millisecond
	}, testManyAddresses)
}

func testManyAddresses(t *testing.T, e *env) {
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.addCitizen(t, testNumber, testPassword)
	for i := range 12 {
		b := stoppingBrowser(t).from(fmt.Sprintf("203.0.113.%d", i+1))
		if pg := b.login(e.URL, b.get(authorize(e, nil)), testNumber, "wrong guess"); pg.status != http.StatusUnauthorized {
			t.Fatalf("guess %d from its own address: got %d, want 401 (slowed, not refused)", i, pg.status)
		}
	}
	citizen := stoppingBrowser(t).from("198.51.100.7")
	form := citizen.get(authorize(e, nil))
	began := time.Now()
	pg := citizen.login(e.URL, form, testNumber, testPassword)
	if q := portalRedirect(t, pg); q.Get("code") == "" {
		t.Fatalf("the citizen after guesses from 12 addresses: got %v, want a code", q)
	}
	if waited := time.Since(began); waited < 400*time.Millisecond {
		t.Errorf("the check was not slowed: took %v, want at least the 400ms slowdown", waited)
	}
}

// The same atomicity for one-time codes: 20 concurrent wrong codes get
// the free checks only.
func TestCodeBurstIsThrottledAtomically(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) {
			s := newStepUp(t, production)
			b := stoppingBrowser(t)
			pg, _ := s.authorize(b, nil)
			b.login(s.e.URL, pg, testNumber, testPassword)
			s.enrol(b)

			b2 := stoppingBrowser(t)
			pg, _ = s.authorize(b2, nil)
			codePage := b2.login(s.e.URL, pg, testNumber, testPassword)
			if !isTOTPForm(codePage) {
				t.Fatalf("fresh login with TOTP: got %.300s, want the code page", codePage.body)
			}
			var forms []url.Values
			for i := range 20 {
				forms = append(forms, url.Values{"step": {"totp"}, "code": {fmt.Sprintf("%06d", 100000+i)}})
			}
			statuses := b2.burst(s.e.URL+actionRE.FindStringSubmatch(codePage.body)[1], forms)
			if got := count(statuses, http.StatusUnauthorized); got > s.e.Config.Login.FreeFailures {
				t.Errorf("20 concurrent wrong codes: got %d checked, want at most %d: %v", got, s.e.Config.Login.FreeFailures, statuses)
			}
		})
	}
}

// tokenPost posts a token-endpoint form and returns the status and the
// decoded JSON answer.
func tokenPost(t *testing.T, u string, form url.Values, basic [2]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic[0] != "" {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// A code presented without valid client authentication consumes nothing:
// whoever saw it (a history, a proxy log) can neither burn it nor, once
// used, revoke what it issued.
func TestCodeWithoutClientAuthenticationConsumesNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
		conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL,
			Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
			Scopes:   []string{"openid", "offline_access"}}
		verifier := oauth2.GenerateVerifier()
		b := stoppingBrowser(t)
		pg := b.login(e.URL, b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)), testNumber, testPassword)
		code := portalRedirect(t, pg).Get("code")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL}, "code_verifier": {verifier}}

		attempts := []struct {
			name  string
			form  url.Values
			basic [2]string
		}{
			{"no client authentication", form, [2]string{}},
			{"client id only", with(form, "client_id", "portal"), [2]string{}},
			{"wrong secret", form, [2]string{"portal", "not the secret of this portal at all"}},
			{"wrong verifier", with(form, "code_verifier", oauth2.GenerateVerifier()), [2]string{"portal", secret}},
		}
		for _, a := range attempts {
			if status, body, _ := tokenPost(t, conf.Endpoint.TokenURL, a.form, a.basic); status/100 != 4 || body["access_token"] != nil {
				t.Fatalf("%s: got %d %v, want a 4xx error", a.name, status, body)
			}
		}
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("the portal's exchange after the attempts: %v", err)
		}

		// An unauthenticated replay of the used code revokes nothing.
		tokenPost(t, conf.Endpoint.TokenURL, form, [2]string{})
		tokenPost(t, conf.Endpoint.TokenURL, form, [2]string{"portal", "not the secret of this portal at all"})
		fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh after unauthenticated replays: %v (the replays revoked the tokens)", err)
		}
		// The portal's own replay (authenticated) revokes the family.
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("replayed code accepted")
		}
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Error("refresh after the authenticated replay: accepted, want the family revoked")
		}
	})
}

func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set(key, value)
	return out
}

// loginFor logs a citizen in through conf and returns its tokens.
func loginFor(t *testing.T, e *env, conf *oauth2.Config, b *browser) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	pg := b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if isLoginForm(pg) {
		pg = b.login(e.URL, pg, testNumber, testPassword)
	}
	tok, err := conf.Exchange(context.Background(), portalRedirect(t, pg).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func portalConf(e *env, id, secret string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: cbURL,
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   append([]string{"openid"}, scopes...)}
}

func userinfoStatus(t *testing.T, e *env, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Introspection answers only the token's own client; token-carrying
// responses are never cached; a client uses the authentication method it
// registered; userinfo takes no token in the URL; wrong client secrets
// are throttled per client and address.
func TestTokenEndpointsHardening(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		secretA := e.addClient(t, clients.Spec{ID: "portal-a", Name: "A", RedirectURIs: []string{cbURL}})
		secretB := e.addClient(t, clients.Spec{ID: "portal-b", Name: "B", RedirectURIs: []string{cbURL}})
		secretP := e.addClient(t, clients.Spec{ID: "portal-post", Name: "P", RedirectURIs: []string{cbURL}})
		if err := e.Store.UpdateClient(context.Background(), "portal-post", func(c *store.Client) error {
			c.TokenEndpointAuthMethod = "client_secret_post" // as the console registers it
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		tok := loginFor(t, e, portalConf(e, "portal-a", secretA, "profile"), stoppingBrowser(t))
		introspect := e.URL + "/oauth/introspect"

		_, own, hdr := tokenPost(t, introspect, url.Values{"token": {tok.AccessToken}}, [2]string{"portal-a", secretA})
		if own["active"] != true || own["sub"] == nil {
			t.Fatalf("introspection by the token's client: got %v, want active with sub", own)
		}
		if hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" {
			t.Errorf("introspection headers: got Cache-Control %q Pragma %q, want no-store, no-cache", hdr.Get("Cache-Control"), hdr.Get("Pragma"))
		}
		if _, other, _ := tokenPost(t, introspect, url.Values{"token": {tok.AccessToken}}, [2]string{"portal-b", secretB}); len(other) != 1 || other["active"] != false {
			t.Errorf("introspection by another client: got %v, want exactly {\"active\": false}", other)
		}

		// The token endpoint's answers, success and error, are not cached.
		status, _, hdr := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, [2]string{"portal-a", secretA})
		if status != http.StatusBadRequest || hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" {
			t.Errorf("token endpoint: got %d Cache-Control %q Pragma %q, want 400 no-store no-cache", status, hdr.Get("Cache-Control"), hdr.Get("Pragma"))
		}
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("userinfo: got %v %v, want 200 with Cache-Control: no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}

		// A client ID no database could hold is an unknown client, not an
		// unavailable service (PostgreSQL refuses a NUL in text).
		for _, id := range []string{"portal-a\x00", "portal-a\xff"} {
			if status, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, [2]string{id, secretA}); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("client ID %q: got %d %v, want 401 invalid_client", id, status, body)
			}
		}

		// The registered authentication method, and only one at a time.
		cc := url.Values{"grant_type": {"client_credentials"}}
		methods := []struct {
			name  string
			form  url.Values
			basic [2]string
		}{
			{"basic client with the secret in the body", with(with(cc, "client_id", "portal-a"), "client_secret", secretA), [2]string{}},
			{"post client with Basic", cc, [2]string{"portal-post", secretP}},
			{"two methods at once", with(with(cc, "client_id", "portal-a"), "client_secret", secretA), [2]string{"portal-a", secretA}},
		}
		for _, m := range methods {
			if status, body, _ := tokenPost(t, e.URL+"/oauth/token", m.form, m.basic); status/100 != 4 || body["error"] == nil {
				t.Errorf("%s: got %d %v, want a 4xx OAuth error", m.name, status, body)
			}
		}
		if status, body, _ := tokenPost(t, introspect, url.Values{"token": {tok.AccessToken}, "client_id": {"portal-a"}, "client_secret": {secretA}}, [2]string{}); status != http.StatusUnauthorized || body["active"] == true {
			t.Errorf("introspection with the secret in the body by a basic client: got %d %v, want 401", status, body)
		}

		// RFC 6750 §2: the scheme in any case, or a form body (§2.2). Each
		// reaches the claims, as the header in its usual spelling does.
		carriers := map[string]func() *http.Request{
			"lower-case scheme": func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, e.URL+"/userinfo", nil)
				req.Header.Set("Authorization", "bearer "+tok.AccessToken)
				return req
			},
			"form body": func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, e.URL+"/userinfo", strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			},
		}
		for name, req := range carriers {
			resp, err := http.DefaultClient.Do(req())
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || info["sub"] == nil {
				t.Errorf("userinfo, token in a %s: got %d %v, want 200 with the claims", name, resp.StatusCode, info)
			}
		}

		// No access token in the URL.
		if resp, err := http.Get(e.URL + "/userinfo?access_token=" + url.QueryEscape(tok.AccessToken)); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("userinfo with the token in the query: got %v, want 400", resp.StatusCode)
		}

		// A portal's concurrent requests with its right secret are never
		// throttled, however many more than the free failures.
		var wg sync.WaitGroup
		var refused atomic.Int32
		for range 4 * e.Config.Login.FreeFailures {
			wg.Go(func() {
				if st, _, _ := tokenPost(t, introspect, url.Values{"token": {tok.AccessToken}}, [2]string{"portal-a", secretA}); st != http.StatusOK {
					refused.Add(1)
				}
			})
		}
		wg.Wait()
		if n := refused.Load(); n != 0 {
			t.Errorf("concurrent requests with the right secret: %d refused, want 0", n)
		}

		// Wrong secrets: the free attempts, then refused even with the
		// right one, from this address only.
		var last int
		for i := range e.Config.Login.FreeFailures + 1 {
			last, _, _ = tokenPost(t, introspect, url.Values{"token": {"x"}}, [2]string{"portal-b", fmt.Sprintf("wrong secret number %02d of the attacker", i)})
		}
		status, body, _ := tokenPost(t, introspect, url.Values{"token": {tok.AccessToken}}, [2]string{"portal-b", secretB})
		if last != http.StatusUnauthorized || status != http.StatusUnauthorized {
			t.Errorf("after %d wrong secrets: got %d, then %d %v with the right one, want 401 both (throttled)", e.Config.Login.FreeFailures+1, last, status, body)
		}
	})
}

// After a logout the session's access tokens stop working, offline_access
// ones too; unsupported response modes are refused, never ignored.
func TestLogoutEndsAccessTokensAndResponseModes(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
		b := stoppingBrowser(t)
		tok := loginFor(t, e, portalConf(e, "portal", secret, "offline_access"), b)
		plain := loginFor(t, e, portalConf(e, "portal", secret), b)
		if tok.RefreshToken == "" || plain.RefreshToken != "" {
			t.Fatalf("refresh tokens: got %q with offline_access and %q without", tok.RefreshToken, plain.RefreshToken)
		}
		if userinfoStatus(t, e, tok.AccessToken) != 200 || userinfoStatus(t, e, plain.AccessToken) != 200 {
			t.Fatal("userinfo before the logout refused")
		}
		if pg := b.post(e.URL+"/account/logout", nil); pg.status >= 400 {
			t.Fatalf("logout: got %d", pg.status)
		}
		for name, at := range map[string]string{"offline_access": tok.AccessToken, "online": plain.AccessToken} {
			if got := userinfoStatus(t, e, at); got != http.StatusUnauthorized {
				t.Errorf("%s access token after the logout: got %d, want 401", name, got)
			}
		}

		for _, mode := range []string{"form_post", "web_message", "query.jwt"} {
			q := portalRedirect(t, stoppingBrowser(t).get(authorize(e, map[string]string{"client_id": "portal", "response_mode": mode})))
			if q.Get("error") != "invalid_request" || q.Get("code") != "" {
				t.Errorf("response_mode=%s: got %v, want invalid_request", mode, q)
			}
		}
		var d map[string]any
		getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
		if fmt.Sprint(d["response_modes_supported"]) != "[query fragment]" {
			t.Errorf("response_modes_supported: got %v, want [query fragment]", d["response_modes_supported"])
		}
	})
}

// Pairwise subjects cannot be collided on purpose: a client whose sector
// is named after another client gets other subjects; only an owner puts
// a client in a sector.
func TestPairwiseSectorsAreOwned(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) { testPairwiseSectors(t, production) })
	}
}

func testPairwiseSectors(t *testing.T, production bool) {
	e := newAdminEnv(t, production, nil)
	e.addCitizen(t, testNumber, testPassword)
	victim := e.addClient(t, clients.Spec{ID: "victim-portal", Name: "Victim", RedirectURIs: []string{cbURL}})
	collector := e.addClient(t, clients.Spec{ID: "collector", Name: "Collector", RedirectURIs: []string{cbURL}, SectorIdentifier: "victim-portal"})
	b := stoppingBrowser(t)
	subject := func(id, secret string) string {
		tok := loginFor(t, e.env, portalConf(e.env, id, secret), b)
		claims := verifyIDToken(t, e.URL, e.URL+"/keys", tok.Extra("id_token").(string), id)
		return claims["sub"].(string)
	}
	if v, c := subject("victim-portal", victim), subject("collector", collector); v == c {
		t.Errorf("a sector named after another client shares its subjects: %s", v)
	}

	rp, _ := e.newAPIClient(t, "rp-bot", []string{"admin:rp-manager"}, nil)
	body := map[string]any{"id": "joiner", "name": "Joiner", "redirect_uris": []string{"https://joiner.example/cb"}, "sector_identifier": "tax.example.gov.vn"}
	r := rp.do("POST", "/clients", body)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "sector_identifier") {
		t.Errorf("an rp-manager assigning a sector: got %d %s, want 422 naming sector_identifier", r.status, r.body)
	}
	if _, err := e.Store.ClientByID(context.Background(), "joiner"); err == nil {
		t.Error("the refused client was stored")
	}
	owner, _ := e.newAPIClient(t, "owner-bot", []string{"admin:owner"}, nil)
	if r := owner.do("POST", "/clients", body); r.status != http.StatusCreated {
		t.Errorf("an owner assigning a sector: got %d %s, want 201", r.status, r.body)
	}
}

// The console and API fetch SP metadata from public addresses only.
func TestAdminMetadataFetchRefusesInternalAddresses(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) { testAdminMetadataFetch(t, production) })
	}
}

func testAdminMetadataFetch(t *testing.T, production bool) {
	e := newAdminEnv(t, production, nil)
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.Write([]byte("<internal>do not show</internal>"))
	}))
	defer internal.Close()
	api, _ := e.newAPIClient(t, "rp-bot", []string{"admin:rp-manager"}, nil)
	for _, u := range []string{internal.URL + "/", "http://169.254.169.254/latest/meta-data/", internal.URL + "/redirect"} {
		r := api.do("POST", "/sps", map[string]any{"metadata_url": u})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "internal address") ||
			strings.Contains(string(r.body), "do not show") || strings.Contains(string(r.body), "127.0.0.1") {
			t.Errorf("metadata_url %s: got %d %s, want 422 with a generic refusal", u, r.status, r.body)
		}
	}
}
