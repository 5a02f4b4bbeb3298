package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

// adminEnv is a CitizenID on a test clock whose console asks for level 2
// (password + TOTP): WebAuthn is not on a loopback IP issuer, so level 3
// cannot be reached in these HTTP tests. The browser test uses
// newPasskeyAdminEnv: a localhost issuer, passkeys, the default level 3.
type adminEnv struct {
	*env
	t    testing.TB
	clk  *clock
	base string          // the issuer's origin: URL, or http://localhost:PORT
	used map[string]bool // TOTP codes already accepted
}

func newAdminEnv(t testing.TB, production bool, tweak func(*config.Config)) *adminEnv {
	t.Helper()
	clk := newClock()
	e := startWith(t, production, func(c *config.Config) {
		c.Admin.MinLevel = 2
		c.Session.IdleTimeout, c.Session.AbsoluteTimeout = 3*time.Hour, 48*time.Hour
		if tweak != nil {
			tweak(c)
		}
	}, app.BuildOptions{Now: clk.Now})
	return &adminEnv{env: e, t: t, clk: clk, base: e.URL, used: map[string]bool{}}
}

// newPasskeyAdminEnv is an adminEnv on a localhost issuer, where passkeys
// are on (a WebAuthn RP ID must be a name), with the console at its
// default level 3.
func newPasskeyAdminEnv(t testing.TB) *adminEnv {
	t.Helper()
	e := newAdminEnv(t, false, func(c *config.Config) {
		c.Admin.MinLevel = config.Default().Admin.MinLevel
		c.Server.Issuer = strings.Replace(c.Server.Issuer, "127.0.0.1", "localhost", 1)
	})
	if e.WebAuthn == nil {
		t.Fatal("passkeys are off on a localhost issuer")
	}
	if def := config.Default().Admin.MinLevel; def != 3 {
		t.Fatalf("admin.min_level default: got %d, want 3", def)
	}
	e.base = strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	return e
}

// person is a citizen of the tests, with TOTP set up unless noTOTP.
type person struct {
	number, id, secret string
}

// addPerson creates a citizen with a password and, unless noTOTP, an
// authenticator app, and grants roles.
func (e *adminEnv) addPerson(number string, noTOTP bool, roles ...string) person {
	e.t.Helper()
	ctx := context.Background()
	e.addCitizen(e.t, number, testPassword)
	c, err := e.Store.CitizenByNumber(ctx, number)
	if err != nil {
		e.t.Fatal(err)
	}
	p := person{number: number, id: c.ID}
	if !noTOTP {
		en, err := e.TOTP.BeginEnrolment(ctx, c.ID, number)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.TOTP.ConfirmEnrolment(ctx, c.ID, e.code(en.Secret)); err != nil {
			e.t.Fatal(err)
		}
		p.secret = en.Secret
	}
	for _, r := range roles {
		if err := e.Store.GrantRole(ctx, &store.AdminGrant{CitizenID: c.ID, Role: r, GrantedBy: "test"}); err != nil {
			e.t.Fatal(err)
		}
	}
	return p
}

// code returns the app's current code, moving the clock to a new time
// step when the current one was already used.
func (e *adminEnv) code(secret string) string {
	e.t.Helper()
	for {
		c, err := totp.Code(secret, e.clk.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		if !e.used[secret+c] {
			e.used[secret+c] = true
			return c
		}
		e.clk.Advance(30 * time.Second)
	}
}

// consoleLogin answers the login pages that a console request led to:
// the password (when asked), then the code. It returns the page after.
func (e *adminEnv) consoleLogin(b *browser, pg page, p person) page {
	e.t.Helper()
	if isLoginForm(pg) {
		pg = b.login(e.URL, pg, p.number, testPassword)
	}
	if isTOTPForm(pg) {
		m := actionRE.FindStringSubmatch(pg.body)
		pg = b.post(e.URL+m[1], url.Values{"step": {"totp"}, "code": {e.code(p.secret)}})
	}
	return pg
}

// adminBrowser logs p in to the console and returns the browser and the dashboard.
func (e *adminEnv) adminBrowser(p person) (*browser, page) {
	e.t.Helper()
	b := newBrowser(e.t)
	pg := b.get(e.URL + "/admin")
	if !isLoginForm(pg) {
		e.t.Fatalf("console without a session: got %d %.300s, want the login form", pg.status, pg.body)
	}
	pg = e.consoleLogin(b, pg, p)
	if pg.status != http.StatusOK || !strings.HasSuffix(pg.url.Path, "/admin") || !strings.Contains(pg.body, `id="admin-who"`) {
		e.t.Fatalf("console login: got %d at %s: %.500s, want the dashboard", pg.status, pg.url, pg.body)
	}
	return b, pg
}

// auditEvents returns the events with action, oldest first.
func (e *adminEnv) auditEvents(action string) []store.AuditEvent {
	e.t.Helper()
	evs, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	secretOnceRE = regexp.MustCompile(`id="client-secret">([^<]+)<`)
	hiddenRE     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// confirm submits a confirmation page as shown.
func (e *adminEnv) confirm(b *browser, pg page) page {
	e.t.Helper()
	if !strings.Contains(pg.body, `id="confirm-yes"`) {
		e.t.Fatalf("got %d %.400s, want a confirmation page", pg.status, pg.body)
	}
	m := formActionRE.FindAllStringSubmatch(pg.body, -1)
	action := m[len(m)-1][1]
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(pg.body, -1) {
		form.Add(unescape(h[1]), unescape(h[2]))
	}
	return b.post(e.URL+unescape(action), form)
}

func unescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#39;", "'", "&#34;", `"`, "&lt;", "<", "&gt;", ">")
	return r.Replace(s)
}

const (
	ownerNumber    = "001080000001"
	rpNumber       = "001080000002"
	helpdeskNumber = "001080000003"
	auditorNumber  = "001080000004"
	plainNumber    = "001080000005"
)

// TestAdminConsoleNeedsTheLevel: the console is reachable only at
// admin.min_level, and only with a role.
func TestAdminConsoleNeedsTheLevel(t *testing.T) {
	t.Run("level 2 with TOTP", func(t *testing.T) {
		e := newAdminEnv(t, false, nil)
		owner := e.addPerson(ownerNumber, false, "owner")
		_, pg := e.adminBrowser(owner)
		if !strings.Contains(pg.body, `href="/admin/keys"`) || !strings.Contains(pg.body, `href="/admin/admins"`) {
			t.Errorf("owner's navigation: want every section, got %.600s", pg.body)
		}
		if evs := e.auditEvents("admin.login"); len(evs) != 1 || evs[0].Outcome != "success" || evs[0].Details["level"] != "2" {
			t.Errorf("admin.login audit: got %+v, want one success at level 2", evs)
		}
	})
	t.Run("dashboard counts live sessions", func(t *testing.T) {
		e := newAdminEnv(t, false, nil)
		owner := e.addPerson(ownerNumber, false, "owner")
		citizen := e.addPerson(plainNumber, false)
		b, pg := e.adminBrowser(owner)
		if !strings.Contains(pg.body, `id="stat-sessions">1<`) {
			t.Errorf("dashboard with the owner's session: want 1 live session, got %.2000s", pg.body)
		}
		// Two browsers of the citizen; one logs out, then the owner's
		// session and the other go idle.
		cb1, cb2 := newBrowser(t), newBrowser(t)
		e.consoleLogin(cb1, cb1.get(e.URL+"/account/security"), citizen)
		e.consoleLogin(cb2, cb2.get(e.URL+"/account/security"), citizen)
		if pg := b.get(e.URL + "/admin"); !strings.Contains(pg.body, `id="stat-sessions">3<`) {
			t.Errorf("dashboard: want 3 live sessions, got %.2000s", pg.body)
		}
		if _, err := e.Sessions.DeleteAllForCitizen(context.Background(), citizen.id); err != nil {
			t.Fatal(err)
		}
		if pg := b.get(e.URL + "/admin"); !strings.Contains(pg.body, `id="stat-sessions">1<`) {
			t.Errorf("dashboard after the citizen's sessions ended: want 1, got %.2000s", pg.body)
		}
		if n, err := e.Sessions.CountLive(context.Background()); err != nil || n != 1 {
			t.Errorf("CountLive: got %d (%v), want 1", n, err)
		}
		e.clk.Advance(3*time.Hour + time.Minute) // past the session idle timeout
		if n, err := e.Sessions.CountLive(context.Background()); err != nil || n != 0 {
			t.Errorf("CountLive after the idle timeout: got %d (%v), want 0", n, err)
		}
	})
	t.Run("password only", func(t *testing.T) {
		e := newAdminEnv(t, false, nil)
		p := e.addPerson(ownerNumber, true, "owner")
		b := newBrowser(t)
		pg := leaveUnmet(t, b, b.login(e.URL, b.get(e.URL+"/admin"), p.number, testPassword), "2")
		if pg.status != http.StatusForbidden || !strings.Contains(pg.body, `id="admin-error"`) || strings.Contains(pg.body, `id="admin-who"`) {
			t.Fatalf("owner without a second factor: got %d %.400s, want 403", pg.status, pg.body)
		}
		// Logged in at level 1 all the same, the console stays closed.
		if pg := b.get(e.URL + "/admin/clients"); strings.Contains(pg.body, `id="admin-who"`) {
			t.Errorf("console at level 1: got %d, want no console", pg.status)
		}
	})
	t.Run("default level 3 is out of reach without passkeys", func(t *testing.T) {
		e := newAdminEnv(t, false, func(c *config.Config) { c.Admin.MinLevel = 3 })
		p := e.addPerson(ownerNumber, false, "owner")
		b := newBrowser(t)
		pg := leaveUnmet(t, b, e.consoleLogin(b, b.get(e.URL+"/admin"), p), "3")
		if pg.status != http.StatusForbidden || strings.Contains(pg.body, `id="admin-who"`) {
			t.Fatalf("level 3 console with TOTP only: got %d %.300s, want 403", pg.status, pg.body)
		}
	})
	t.Run("no role", func(t *testing.T) {
		e := newAdminEnv(t, false, nil)
		p := e.addPerson(plainNumber, false)
		b := newBrowser(t)
		pg := e.consoleLogin(b, b.get(e.URL+"/admin"), p)
		if pg.status != http.StatusForbidden || strings.Contains(pg.body, `id="admin-who"`) {
			t.Fatalf("citizen without a role: got %d %.300s, want 403", pg.status, pg.body)
		}
		if evs := e.auditEvents("admin.login"); len(evs) != 1 || evs[0].Outcome != "refused" {
			t.Errorf("admin.login audit: got %+v, want one refusal", evs)
		}
	})
}

// TestAdminIdleTimeout: the console session ends after admin.idle_timeout
// without console activity, although the SSO session and its level live on.
func TestAdminIdleTimeout(t *testing.T) {
	e := newAdminEnv(t, false, nil) // idle_timeout 15m; level 2 lasts 1h idle
	owner := e.addPerson(ownerNumber, false, "owner")
	b, _ := e.adminBrowser(owner)

	e.clk.Advance(10 * time.Minute)
	if pg := b.get(e.URL + "/admin/clients"); pg.status != http.StatusOK || !strings.Contains(pg.body, `id="admin-who"`) {
		t.Fatalf("after 10 idle minutes: got %d %.300s, want the console", pg.status, pg.body)
	}
	e.clk.Advance(16 * time.Minute)
	pg := b.get(e.URL + "/admin/clients")
	if strings.Contains(pg.body, `id="admin-who"`) || !(isLoginForm(pg) || isTOTPForm(pg)) {
		t.Fatalf("after 16 idle minutes: got %d %.300s, want the login again", pg.status, pg.body)
	}
	pg = e.consoleLogin(b, pg, owner)
	if !strings.HasSuffix(pg.url.Path, "/admin/clients") || !strings.Contains(pg.body, `id="admin-who"`) {
		t.Fatalf("after logging in again: got %d at %s, want the page asked for", pg.status, pg.url)
	}
	// The SSO session itself was not ended by the console's timeout.
	if pg := b.get(e.URL + "/account/security"); isLoginForm(pg) {
		t.Error("account page after the console timeout: got the login form, want the SSO session alive")
	}
}

// consolePosts are every console form, with a field set that would pass.
func consolePosts(clientID, citizenID string) map[string]url.Values {
	sp := "/admin/sps/" + spRefOf(spEntity)
	return map[string]url.Values{
		"/admin/sps":                             {"metadata_url": {"https://bhxh.example.gov.vn/md"}, "min_level": {"1"}},
		sp:                                       {"name": {"X"}, "min_level": {"1"}, "nameid_format": {"persistent"}},
		sp + "/metadata":                         {"metadata_url": {"https://bhxh.example.gov.vn/md"}},
		sp + "/disable":                          {"confirm": {"yes"}},
		sp + "/enable":                           {},
		sp + "/delete":                           {"confirm": {"yes"}},
		"/admin/clients":                         {"id": {"x-new"}, "name": {"X"}, "redirect_uris": {"https://x.example/cb"}, "min_level": {"1"}},
		"/admin/clients/" + clientID:             {"name": {"X"}, "redirect_uris": {"https://x.example/cb"}, "min_level": {"1"}},
		"/admin/clients/" + clientID + "/secret": {"overlap": {"0"}},
		"/admin/clients/" + clientID + "/disable":          {"confirm": {"yes"}},
		"/admin/clients/" + clientID + "/enable":           {},
		"/admin/clients/" + clientID + "/delete":           {"confirm": {"yes"}},
		"/admin/clients/" + clientID + "/api-access":       {"scope": {"admin:owner"}},
		"/admin/keys/rotate":                               {"confirm": {"yes"}},
		"/admin/keys/some-kid/retire":                      {"confirm": {"yes"}},
		"/admin/citizens/" + citizenID + "/disable":        {"confirm": {"yes"}},
		"/admin/citizens/" + citizenID + "/enable":         {},
		"/admin/citizens/" + citizenID + "/sessions/end":   {"confirm": {"yes"}},
		"/admin/citizens/" + citizenID + "/totp/reset":     {"reason": {"the citizen lost the phone"}},
		"/admin/citizens/" + citizenID + "/webauthn/reset": {"credential": {"all"}, "reason": {"the citizen lost the key"}},
		"/admin/citizens/" + citizenID + "/identity-level": {"level": {"2"}},
		"/admin/admins/grant":                              {"number": {plainNumber}, "role": {"owner"}},
		"/admin/admins/revoke":                             {"number": {ownerNumber}, "role": {"owner"}, "confirm": {"yes"}},
	}
}

// TestAdminRoles: each role sees its sections and is refused the others;
// an auditor reads and exports the audit log, and every form is refused.
func TestAdminRoles(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	e.addPerson(ownerNumber, false, "owner")
	rp := e.addPerson(rpNumber, false, "rp-manager")
	hd := e.addPerson(helpdeskNumber, false, "helpdesk")
	au := e.addPerson(auditorNumber, false, "auditor")
	citizen := e.addPerson(plainNumber, false)
	e.addClient(t, oidcSpec("portal", cbURL))
	e.addSP(t)

	sp := "/admin/sps/" + spRefOf(spEntity)
	pages := []string{"/admin/clients", "/admin/clients/portal", "/admin/clients/new", "/admin/sps", "/admin/sps/new", sp, "/admin/keys", "/admin/citizens",
		"/admin/citizens/" + citizen.id, "/admin/audit", "/admin/audit/export.csv", "/admin/admins"}
	allowed := map[string][]string{
		rpNumber:       {"/admin/clients", "/admin/clients/portal", "/admin/clients/new", "/admin/sps", "/admin/sps/new", sp},
		helpdeskNumber: {"/admin/citizens", "/admin/citizens/" + citizen.id},
		auditorNumber:  {"/admin/clients", "/admin/clients/portal", "/admin/sps", sp, "/admin/keys", "/admin/audit", "/admin/audit/export.csv"},
	}
	for _, p := range []person{rp, hd, au} {
		t.Run(p.number, func(t *testing.T) {
			b, dash := e.adminBrowser(p)
			for _, path := range pages {
				pg := b.get(e.URL + path)
				want := http.StatusForbidden
				for _, ok := range allowed[p.number] {
					if ok == path {
						want = http.StatusOK
					}
				}
				if pg.status != want {
					t.Errorf("GET %s: got %d, want %d", path, pg.status, want)
				}
				if want == http.StatusForbidden && strings.Contains(dash.body, `href="`+path+`"`) {
					t.Errorf("navigation links to %s, which the role may not see", path)
				}
			}
		})
	}

	t.Run("auditor forms", func(t *testing.T) {
		b, _ := e.adminBrowser(au)
		for path, form := range consolePosts("portal", citizen.id) {
			if pg := b.post(e.URL+path, form); pg.status != http.StatusForbidden {
				t.Errorf("auditor POST %s: got %d, want 403", path, pg.status)
			}
		}
		if evs := e.auditEvents("admin.denied"); len(evs) < len(consolePosts("portal", citizen.id)) || evs[len(evs)-1].Actor != "admin:"+au.id {
			t.Errorf("admin.denied audit: got %d events, want every refusal", len(evs))
		}
		// Nothing changed.
		if c, err := e.Store.ClientByID(context.Background(), "portal"); err != nil || c.Disabled {
			t.Errorf("client after the auditor's forms: %+v %v, want it enabled", c, err)
		}
		pg := b.get(e.URL + "/admin/audit/export.csv?since=")
		if pg.status != http.StatusOK || !strings.HasPrefix(pg.header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(pg.body, "\ufeffseq,time,actor,action,target,outcome,client_ip,details,prev_hash,hash\n") ||
			!strings.Contains(pg.body, "admin.login") {
			t.Errorf("auditor export: got %d %q %.300s, want the CSV with the logins", pg.status, pg.header.Get("Content-Type"), pg.body)
		}
		if evs := e.auditEvents("audit.export"); len(evs) == 0 || evs[len(evs)-1].Actor != "admin:"+au.id {
			t.Errorf("audit.export: got %+v, want the auditor's export recorded", evs)
		}
	})
}

// TestAdminCrossOriginRefused: a form posted from another site is refused
// and changes nothing.
func TestAdminCrossOriginRefused(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	citizen := e.addPerson(plainNumber, false)
	e.addClient(t, oidcSpec("portal", cbURL))
	e.addSP(t)
	b, _ := e.adminBrowser(owner)
	for path, form := range consolePosts("portal", citizen.id) {
		req, _ := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if pg := b.do(req); pg.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: got %d, want 403", path, pg.status)
		}
	}
	ctx := context.Background()
	if c, err := e.Store.ClientByID(ctx, "portal"); err != nil || c.Disabled {
		t.Errorf("client after cross-site posts: %v %v, want it there and enabled", c, err)
	}
	if sp, err := e.Store.ServiceProviderByEntityID(ctx, spEntity); err != nil || sp.Disabled {
		t.Errorf("service provider after cross-site posts: %v %v, want it there and enabled", sp, err)
	}
	if c, _ := e.Store.CitizenByID(ctx, citizen.id); c.Disabled || c.IdentityLevel == 2 {
		t.Errorf("citizen after cross-site posts: %+v, want unchanged", c)
	}
	if roles, _ := e.Store.RolesOf(ctx, mustCitizen(t, e, plainNumber)); len(roles) != 0 {
		t.Errorf("roles after cross-site posts: %v, want none", roles)
	}
}

func mustCitizen(t *testing.T, e *adminEnv, number string) string {
	t.Helper()
	c, err := e.Store.CitizenByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func oidcSpec(id, redirect string) clients.Spec {
	return clients.Spec{ID: id, Name: "Cổng " + id, RedirectURIs: []string{redirect}}
}

// clientAuth reports whether the token endpoint accepts id and secret:
// a bogus refresh token is refused as invalid_grant after the client
// authenticated, as invalid_client before.
func clientAuth(t *testing.T, e *adminEnv, id, secret string) bool {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}}
	// The method the client registered: another one is refused.
	post := false
	if c, err := e.Store.ClientByID(context.Background(), id); err == nil {
		post = c.TokenEndpointAuthMethod == "client_secret_post"
	}
	if post {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !post {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	switch body.Error {
	case "invalid_grant":
		return true
	case "invalid_client", "unauthorized_client":
		return false
	}
	t.Fatalf("token endpoint: got %d %q, want invalid_grant or invalid_client", resp.StatusCode, body.Error)
	return false
}

// TestAdminClientLifecycle: register with the console's validations, edit,
// rotate the secret (fresh authentication, overlap), disable, delete; every
// change audited with before and after, never a secret.
func TestAdminClientLifecycle(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) {
			testAdminClientLifecycle(t, production)
		})
	}
}

func testAdminClientLifecycle(t *testing.T, production bool) {
	e := newAdminEnv(t, production, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	b, _ := e.adminBrowser(owner)
	ctx := context.Background()

	// Invalid input: every problem shown, nothing written.
	bad := url.Values{"id": {"Bad ID"}, "name": {""}, "logo_url": {"http://logo.example/x.png"},
		"redirect_uris": {"https://*.example.gov.vn/cb\nhttp://portal.example.gov.vn/cb\nhttps://portal.example.gov.vn/cb#frag"},
		"min_level":     {"7"}, "max_auth_age": {"soon"}, "token_endpoint_auth_method": {"client_secret_basic"}}
	pg := b.post(e.URL+"/admin/clients", bad)
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="error-summary"`) {
		t.Fatalf("invalid client: got %d %.300s, want 422 with the errors", pg.status, pg.body)
	}
	pg = b.post(e.URL+"/admin/clients", url.Values{"id": {"bad"}, "name": {"Bad"}, "min_level": {"1"},
		"redirect_uris": {"https://*.example.gov.vn/cb\nhttp://portal.example.gov.vn/cb\nhttps://portal.example.gov.vn/cb#frag"}})
	// Each refused URI is named beside the field, in the page's language
	// (the rules' English details are for the API and the CLI).
	for _, want := range []string{"https://*.example.gov.vn/cb", "http://portal.example.gov.vn/cb", "https://portal.example.gov.vn/cb#frag"} {
		if !strings.Contains(pg.body, `<p class="field-error" id="redirect_uris-error">`) || !strings.Contains(pg.body, want+",") && !strings.Contains(pg.body, want+"</p>") {
			t.Errorf("invalid redirect URIs: want %q named beside the field, got %.600s", want, pg.body)
		}
	}
	for _, english := range []string{"wildcards are not allowed", "http is allowed only for loopback", "must not contain a fragment"} {
		if strings.Contains(pg.body, english) {
			t.Errorf("invalid redirect URIs: the Vietnamese page shows the English detail %q", english)
		}
	}
	if list, _ := e.Store.ListClients(ctx); len(list) != 0 {
		t.Fatalf("after invalid input: got %d clients, want none", len(list))
	}

	// A valid client; the secret is shown once.
	form := url.Values{"id": {"tax-portal"}, "name": {"Cổng thuế"}, "logo_url": {"https://thue.example.gov.vn/logo.png"},
		"redirect_uris": {"https://thue.example.gov.vn/cb\r\nhttp://127.0.0.1/cb"}, "post_logout_redirect_uris": {"https://thue.example.gov.vn/"},
		"token_endpoint_auth_method": {"client_secret_post"}, "scope": {"citizen_number"}, "subject_type": {"pairwise"},
		"sector_identifier": {"thue.example.gov.vn"}, "min_level": {"2"}, "max_auth_age": {"1h"}, "access_token_lifetime": {"5m"}}
	pg = b.post(e.URL+"/admin/clients", form)
	m := secretOnceRE.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil {
		t.Fatalf("create: got %d %.500s, want the secret page", pg.status, pg.body)
	}
	secret := m[1]
	c, err := e.Store.ClientByID(ctx, "tax-portal")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Cổng thuế" || c.LogoURL != "https://thue.example.gov.vn/logo.png" || len(c.RedirectURIs) != 2 ||
		c.TokenEndpointAuthMethod != "client_secret_post" || c.MinLevel != 2 || c.MaxAuthAge != time.Hour ||
		c.AccessTokenLifetime != 5*time.Minute || c.SectorIdentifier != "thue.example.gov.vn" || len(c.Scopes) != 1 {
		t.Errorf("stored client: got %+v", c)
	}
	if !clientAuth(t, e, "tax-portal", secret) {
		t.Fatal("the new secret does not authenticate the client")
	}
	if pg := b.post(e.URL+"/admin/clients", form); pg.status != http.StatusUnprocessableEntity || secretOnceRE.MatchString(pg.body) {
		t.Errorf("create twice: got %d, want 422 and no secret", pg.status)
	}
	if pg := b.get(e.URL + "/admin/clients/tax-portal"); strings.Contains(pg.body, secret) {
		t.Error("the client page shows the secret; it must be shown once only")
	}
	// A public (native) client: no secret, PKCE; the auth method follows.
	pg = b.post(e.URL+"/admin/clients", url.Values{"id": {"tax-app"}, "name": {"Ứng dụng thuế"}, "public": {"on"},
		"redirect_uris": {"vn.gov.thue.app:/cb\nhttp://127.0.0.1/cb"}, "token_endpoint_auth_method": {"client_secret_basic"}, "min_level": {"1"}})
	if pg.status != http.StatusOK || secretOnceRE.MatchString(pg.body) {
		t.Errorf("public client: got %d %.300s, want created without a secret", pg.status, pg.body)
	}
	if c, err := e.Store.ClientByID(ctx, "tax-app"); err != nil || !c.Public || c.SecretHash != "" || c.TokenEndpointAuthMethod != "none" {
		t.Errorf("public client stored: %+v %v", c, err)
	}

	// Edit: a wildcard is refused and nothing changes; a good edit is saved.
	edit := url.Values{"name": {"Cổng thuế điện tử"}, "redirect_uris": {"https://thue.example.gov.vn/*"}, "min_level": {"2"},
		"token_endpoint_auth_method": {"client_secret_basic"}}
	if pg := b.post(e.URL+"/admin/clients/tax-portal", edit); pg.status != http.StatusUnprocessableEntity {
		t.Errorf("edit with a wildcard: got %d, want 422", pg.status)
	}
	edit.Set("redirect_uris", "https://thue.example.gov.vn/cb")
	if pg := b.post(e.URL+"/admin/clients/tax-portal", edit); pg.status != http.StatusOK || !strings.Contains(pg.url.RawQuery, "done=admin_msg_saved") {
		t.Errorf("edit: got %d at %s, want saved", pg.status, pg.url)
	}
	c, _ = e.Store.ClientByID(ctx, "tax-portal")
	if c.Name != "Cổng thuế điện tử" || len(c.RedirectURIs) != 1 || c.SectorIdentifier != "thue.example.gov.vn" || c.LogoURL != "" {
		t.Errorf("edited client: got %+v", c)
	}

	// Secret rotation needs a fresh authentication: after 6 minutes the
	// level is asked again, then the administrator submits once more.
	e.clk.Advance(6 * time.Minute)
	pg = b.post(e.URL+"/admin/clients/tax-portal/secret", url.Values{"overlap": {"1h"}})
	if secretOnceRE.MatchString(pg.body) || !(isLoginForm(pg) || isTOTPForm(pg)) {
		t.Fatalf("stale rotation: got %d %.300s, want the login again", pg.status, pg.body)
	}
	pg = e.consoleLogin(b, pg, owner)
	if pg.url.Path != "/admin/clients/tax-portal" || pg.url.Query().Get("confirmed") != "1" {
		t.Fatalf("after the fresh login: got %s, want the client page with a note", pg.url)
	}
	pg = b.post(e.URL+"/admin/clients/tax-portal/secret", url.Values{"overlap": {"1h"}})
	m = secretOnceRE.FindStringSubmatch(pg.body)
	if m == nil || !strings.Contains(pg.body, `id="previous-until"`) {
		t.Fatalf("rotation: got %d %.400s, want the new secret and the overlap", pg.status, pg.body)
	}
	newSecret := m[1]
	if !clientAuth(t, e, "tax-portal", newSecret) || !clientAuth(t, e, "tax-portal", secret) {
		t.Fatal("during the overlap both secrets must work")
	}
	e.clk.Advance(61 * time.Minute)
	if clientAuth(t, e, "tax-portal", secret) || !clientAuth(t, e, "tax-portal", newSecret) {
		t.Fatal("after the overlap only the new secret must work")
	}

	// Disable asks first; then the client cannot authenticate.
	b2, _ := e.adminBrowser(owner) // the console of the first browser went idle
	pg = b2.post(e.URL+"/admin/clients/tax-portal/disable", url.Values{})
	pg = e.confirm(b2, pg)
	if c, _ := e.Store.ClientByID(ctx, "tax-portal"); !c.Disabled || clientAuth(t, e, "tax-portal", newSecret) {
		t.Fatal("disabled client: want it disabled and refused")
	}
	b2.post(e.URL+"/admin/clients/tax-portal/enable", url.Values{})
	pg = e.confirm(b2, b2.post(e.URL+"/admin/clients/tax-portal/delete", url.Values{}))
	if _, err := e.Store.ClientByID(ctx, "tax-portal"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(pg.url.RawQuery, "admin_msg_deleted") {
		t.Fatalf("delete: got %v at %s, want the client gone", err, pg.url)
	}

	// The trail: who, with which role, before and after; never a secret.
	for _, action := range []string{"client.create", "client.update", "client.secret_rotate", "client.disable", "client.enable", "client.delete"} {
		var evs []store.AuditEvent
		for _, ev := range e.auditEvents(action) {
			if ev.Target == "client:tax-portal" {
				evs = append(evs, ev)
			}
		}
		if len(evs) != 1 {
			t.Errorf("%s: got %d events, want 1", action, len(evs))
			continue
		}
		ev := evs[0]
		if ev.Actor != "admin:"+owner.id || ev.Details["roles"] != "owner" || ev.Target != "client:tax-portal" || ev.ClientIP != "127.0.0.1" {
			t.Errorf("%s: got %+v, want the owner, role, target and address", action, ev)
		}
		for k, v := range ev.Details {
			if strings.Contains(v, secret) || strings.Contains(v, newSecret) || strings.Contains(v, "sha256:") {
				t.Errorf("%s detail %s holds a secret or its hash: %s", action, k, v)
			}
		}
	}
	if ev := e.auditEvents("client.update"); len(ev) == 1 && (!strings.Contains(ev[0].Details["before"], `"name":"Cổng thuế"`) ||
		!strings.Contains(ev[0].Details["after"], `"name":"Cổng thuế điện tử"`)) {
		t.Errorf("client.update before/after: got %q / %q", ev[0].Details["before"], ev[0].Details["after"])
	}
}

// TestAdminHelpdesk: a helpdesk finds a citizen, sees the authenticators
// and sessions (never a secret), resets the app with a written reason that
// the audit log keeps, ends the sessions, disables and enables the
// account; it may not touch an administrator's account nor set identity
// levels.
func TestAdminHelpdesk(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	hd := e.addPerson(helpdeskNumber, false, "helpdesk")
	citizen := e.addPerson(plainNumber, false)
	ctx := context.Background()

	// The citizen has a session of their own.
	cb := newBrowser(t)
	e.consoleLogin(cb, cb.get(e.URL+"/account/security"), citizen)

	b, _ := e.adminBrowser(hd)
	pg := b.get(e.URL + "/admin/citizens?q=" + plainNumber[:8])
	if !strings.Contains(pg.body, `href="/admin/citizens/`+citizen.id+`"`) {
		t.Fatalf("search by number prefix: got %.400s, want the citizen", pg.body)
	}
	if pg := b.get(e.URL + "/admin/citizens?q=Tr%E1%BA%A7n"); !strings.Contains(pg.body, citizen.id) {
		t.Errorf("search by name: want the citizen, got %.300s", pg.body)
	}
	pg = b.get(e.URL + "/admin/citizens/" + citizen.id)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="reset-totp"`) || strings.Contains(pg.body, citizen.secret) ||
		!strings.Contains(pg.body, "<td>pwd, otp</td>") || strings.Contains(pg.body, `id="set-level"`) {
		t.Fatalf("citizen page: got %d %.1200s", pg.status, pg.body)
	}

	// A reason is required.
	if pg := b.post(e.URL+"/admin/citizens/"+citizen.id+"/totp/reset", url.Values{"reason": {"lost"}}); pg.status != http.StatusUnprocessableEntity {
		t.Errorf("reset without a real reason: got %d, want 422", pg.status)
	}
	if ok, _ := e.TOTP.Enrolled(ctx, citizen.id); !ok {
		t.Fatal("the app was removed without a reason")
	}
	reason := "Công dân mất điện thoại, đã xác minh tại quầy"
	pg = b.post(e.URL+"/admin/citizens/"+citizen.id+"/totp/reset", url.Values{"reason": {reason}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_totp_reset") {
		t.Fatalf("reset: got %d at %s", pg.status, pg.url)
	}
	if ok, _ := e.TOTP.Enrolled(ctx, citizen.id); ok {
		t.Fatal("after the reset the app is still enrolled")
	}
	evs := e.auditEvents("totp.reset")
	if len(evs) != 1 || evs[0].Actor != "admin:"+hd.id || evs[0].Details["reason"] != reason || evs[0].Target != "citizen:"+citizen.id ||
		evs[0].Details["roles"] != "helpdesk" {
		t.Fatalf("totp.reset audit: got %+v", evs)
	}
	// The audit log shows it to an owner.
	ob, _ := e.adminBrowser(owner)
	pg = ob.get(e.URL + "/admin/audit?since=&action=totp.reset")
	if !strings.Contains(pg.body, `href="/admin/audit/`) || !strings.Contains(pg.body, "totp.reset") {
		t.Fatalf("audit log filtered by action: got %.500s", pg.body)
	}
	pg = ob.get(e.URL + "/admin/audit/" + strconv.FormatInt(evs[0].Seq, 10))
	if !strings.Contains(pg.body, html.EscapeString(reason)) || !strings.Contains(pg.body, `id="before"`) {
		t.Errorf("audit event page: want the reason and before/after, got %.800s", pg.body)
	}

	// End the sessions; the citizen's browser is logged out.
	pg = e.confirm(b, b.post(e.URL+"/admin/citizens/"+citizen.id+"/sessions/end", url.Values{}))
	if list, _ := e.Sessions.ListForCitizen(ctx, citizen.id); len(list) != 0 {
		t.Errorf("sessions after ending them: got %d, want 0", len(list))
	}
	if pg := cb.get(e.URL + "/account/security"); !isLoginForm(pg) {
		t.Error("the citizen's browser is still logged in")
	}
	// Disable asks first, then enable.
	e.confirm(b, b.post(e.URL+"/admin/citizens/"+citizen.id+"/disable", url.Values{}))
	if c, _ := e.Store.CitizenByID(ctx, citizen.id); !c.Disabled {
		t.Error("citizen not disabled")
	}
	b.post(e.URL+"/admin/citizens/"+citizen.id+"/enable", url.Values{})
	if c, _ := e.Store.CitizenByID(ctx, citizen.id); c.Disabled {
		t.Error("citizen not enabled again")
	}

	// Not an administrator's account, not identity levels.
	if pg := b.post(e.URL+"/admin/citizens/"+owner.id+"/totp/reset", url.Values{"reason": {reason}}); pg.status != http.StatusForbidden {
		t.Errorf("helpdesk resetting an owner's app: got %d, want 403", pg.status)
	}
	if pg := b.post(e.URL+"/admin/citizens/"+citizen.id+"/identity-level", url.Values{"level": {"2"}}); pg.status != http.StatusForbidden {
		t.Errorf("helpdesk setting an identity level: got %d, want 403", pg.status)
	}
	// The owner may; but not disable their own account.
	pg = ob.post(e.URL+"/admin/citizens/"+owner.id+"/disable", url.Values{"confirm": {"yes"}})
	if c, _ := e.Store.CitizenByID(ctx, owner.id); c.Disabled || !strings.Contains(pg.url.RawQuery, "admin_err_self") {
		t.Errorf("owner disabling their own account: got %s, want refused", pg.url)
	}
	ob.post(e.URL+"/admin/citizens/"+citizen.id+"/identity-level", url.Values{"level": {"2"}})
	if c, _ := e.Store.CitizenByID(ctx, citizen.id); c.IdentityLevel != 2 {
		t.Errorf("identity level set by the owner: got %d, want 2", c.IdentityLevel)
	}
}

// TestAdminAdministrators: an owner grants and revokes roles after a fresh
// authentication; the last owner stays.
func TestAdminAdministrators(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	e.addPerson(plainNumber, false)
	ctx := context.Background()
	b, _ := e.adminBrowser(owner)

	pg := b.post(e.URL+"/admin/admins/grant", url.Values{"number": {plainNumber}, "role": {"rp-manager"}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_granted") || !strings.Contains(pg.body, plainNumber) {
		t.Fatalf("grant: got %d at %s", pg.status, pg.url)
	}
	id := mustCitizen(t, e, plainNumber)
	if roles, _ := e.Store.RolesOf(ctx, id); len(roles) != 1 || roles[0] != "rp-manager" {
		t.Fatalf("roles after the grant: got %v", roles)
	}
	for _, f := range []url.Values{
		{"number": {plainNumber}, "role": {"rp-manager"}}, // held already
		{"number": {"001080009999"}, "role": {"auditor"}}, // no such citizen
		{"number": {plainNumber}, "role": {"superuser"}},  // no such role
	} {
		if pg := b.post(e.URL+"/admin/admins/grant", f); pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="error-summary"`) ||
			!strings.Contains(pg.body, `aria-invalid="true"`) {
			t.Errorf("grant %v: got %d %s, want the form with its problem", f, pg.status, pg.url)
		}
	}
	// The last owner cannot go.
	pg = e.confirm(b, b.post(e.URL+"/admin/admins/revoke", url.Values{"number": {ownerNumber}, "role": {"owner"}}))
	if !strings.Contains(pg.url.RawQuery, "admin_err_last_owner") {
		t.Errorf("revoking the last owner: got %s, want refused", pg.url)
	}
	// After a while the grant asks for the level again.
	e.clk.Advance(6 * time.Minute)
	pg = b.post(e.URL+"/admin/admins/grant", url.Values{"number": {plainNumber}, "role": {"auditor"}})
	if !(isLoginForm(pg) || isTOTPForm(pg)) {
		t.Fatalf("stale grant: got %d %.300s, want the login", pg.status, pg.body)
	}
	if roles, _ := e.Store.RolesOf(ctx, id); len(roles) != 1 {
		t.Fatalf("a stale grant went through: %v", roles)
	}
	e.consoleLogin(b, pg, owner)
	pg = e.confirm(b, b.post(e.URL+"/admin/admins/revoke", url.Values{"number": {plainNumber}, "role": {"rp-manager"}}))
	if roles, _ := e.Store.RolesOf(ctx, id); len(roles) != 0 {
		t.Errorf("roles after the revocation: got %v, want none", roles)
	}
	if evs := e.auditEvents("admin.grant"); len(evs) != 1 || evs[0].Actor != "admin:"+owner.id || evs[0].Details["role"] != "rp-manager" {
		t.Errorf("admin.grant audit: got %+v", evs)
	}
	if evs := e.auditEvents("admin.revoke"); len(evs) != 1 {
		t.Errorf("admin.revoke audit: got %d events, want 1", len(evs))
	}
}

// TestAdminKeys: an owner rotates and retires signing keys.
func TestAdminKeys(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	ctx := context.Background()
	b, _ := e.adminBrowser(owner)
	before, _ := e.Keys.List(ctx)
	pg := e.confirm(b, b.post(e.URL+"/admin/keys/rotate", url.Values{}))
	if !strings.Contains(pg.url.RawQuery, "admin_msg_rotated") {
		t.Fatalf("rotate: got %s", pg.url)
	}
	after, _ := e.Keys.List(ctx)
	states := map[string]string{}
	for _, k := range after {
		states[k.ID] = k.State
	}
	var next string
	for _, k := range before {
		switch k.State {
		case store.KeyActive:
			if states[k.ID] != store.KeyRetired {
				t.Errorf("old active key %s: got %s, want retired", k.ID, states[k.ID])
			}
		case store.KeyNext:
			if states[k.ID] != store.KeyActive {
				t.Errorf("old next key %s: got %s, want active", k.ID, states[k.ID])
			}
		}
	}
	for id, s := range states {
		if s == store.KeyNext {
			next = id
		}
	}
	// The only next key cannot be retired; the active one neither.
	pg = e.confirm(b, b.post(e.URL+"/admin/keys/"+next+"/retire", url.Values{}))
	if !strings.Contains(pg.url.RawQuery, "admin_err_key_last_next") {
		t.Errorf("retire the only next key: got %s", pg.url)
	}
	if pg := b.get(e.URL + "/admin/keys"); !strings.Contains(pg.body, next) || !strings.Contains(pg.body, "RS256") {
		t.Errorf("keys page: got %.400s", pg.body)
	}
	if evs := e.auditEvents("keys.rotate"); len(evs) != 1 || evs[0].Actor != "admin:"+owner.id || !strings.Contains(evs[0].Details["after"], `"state":"active"`) {
		t.Errorf("keys.rotate audit: got %+v", evs)
	}
}

// addSP registers the test service provider.
func (e *adminEnv) addSP(t *testing.T) {
	t.Helper()
	md := spMetadata(spEntity, []string{"https://bhxh.example.gov.vn/saml/acs"}, nil)
	if _, err := citizensaml.Register(context.Background(), e.Store, citizensaml.SPSpec{MetadataXML: []byte(md)}); err != nil {
		t.Fatal(err)
	}
}

// addPasskey stores a passkey for the citizen as a registration would (a
// random credential ID; the key is never used here) and returns its ID.
func (e *adminEnv) addPasskey(citizenID, name string, synced bool) []byte {
	e.t.Helper()
	id := make([]byte, 32)
	rand.Read(id)
	err := e.Store.CreateWebAuthnCredential(context.Background(), &store.WebAuthnCredential{ID: id, CitizenID: citizenID,
		PublicKey: []byte("public key " + name), AAGUID: make([]byte, 16), AttestationFormat: "none",
		BackupEligible: synced, BackupState: synced, UserVerified: true, Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *adminEnv) passkeys(citizenID string) []store.WebAuthnCredential {
	e.t.Helper()
	creds, err := e.Store.ListWebAuthnCredentials(context.Background(), citizenID)
	if err != nil {
		e.t.Fatal(err)
	}
	return creds
}

// TestAdminPasskeyReset: a helpdesk removes one passkey of a citizen, then
// all, each with a written reason that the audit log keeps with the
// passkeys before and after (references only, never an ID or a key); the
// page shows passkeys by reference; an administrator's passkeys are for an
// owner only.
func TestAdminPasskeyReset(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	hd := e.addPerson(helpdeskNumber, false, "helpdesk")
	citizen := e.addPerson(plainNumber, false)
	phone := e.addPasskey(citizen.id, "Điện thoại", false)
	key := e.addPasskey(citizen.id, "Khoá bảo mật", false)
	ownerKey := e.addPasskey(owner.id, "Owner key", false)
	phoneRef, keyRef := webauthn.Fingerprint(phone), webauthn.Fingerprint(key)
	secrets := []string{base64.RawURLEncoding.EncodeToString(phone), hex.EncodeToString(phone), hex.EncodeToString(key)[:16], "public key"}

	b, _ := e.adminBrowser(hd)
	pg := b.get(e.URL + "/admin/citizens/" + citizen.id)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="reset-webauthn"`) ||
		!strings.Contains(pg.body, `<option value="`+phoneRef+`">`) || !strings.Contains(pg.body, `<option value="all">`) {
		t.Fatalf("citizen page: got %d %.1500s, want the passkey removal form", pg.status, pg.body)
	}
	for _, s := range secrets {
		if strings.Contains(pg.body, s) {
			t.Errorf("citizen page shows %q of a passkey", s)
		}
	}
	reset := "/admin/citizens/" + citizen.id + "/webauthn/reset"

	// A reason is required; the one typed comes back with the error.
	pg = b.post(e.URL+reset, url.Values{"credential": {phoneRef}, "reason": {"lost"}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="webauthn-reason" name="reason" required minlength="10" maxlength="500" aria-describedby="webauthn-reason-hint webauthn-reason-error" aria-invalid="true">lost</textarea>`) {
		t.Errorf("removal without a real reason: got %d %.300s, want 422 with the reason marked", pg.status, pg.body)
	}
	if n := len(e.passkeys(citizen.id)); n != 2 {
		t.Fatalf("after a refused removal: got %d passkeys, want 2", n)
	}

	// One passkey.
	reason := "Công dân mất điện thoại, đã xác minh CCCD tại quầy"
	pg = b.post(e.URL+reset, url.Values{"credential": {phoneRef}, "reason": {reason}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_webauthn_reset") || !strings.Contains(pg.body, `role="status"`) {
		t.Fatalf("remove one: got %d at %s", pg.status, pg.url)
	}
	if left := e.passkeys(citizen.id); len(left) != 1 || left[0].Name != "Khoá bảo mật" {
		t.Fatalf("after removing the phone: got %+v, want the key left", left)
	}
	evs := e.auditEvents("webauthn.reset")
	if len(evs) != 1 {
		t.Fatalf("webauthn.reset audit: got %d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Actor != "admin:"+hd.id || ev.Target != "citizen:"+citizen.id || ev.Outcome != "success" || ev.Details["reason"] != reason ||
		ev.Details["roles"] != "helpdesk" || ev.Details["credentials"] != phoneRef || ev.Details["scope"] != "one" ||
		ev.Details["before"] != `{"passkeys":[{"credential":"`+phoneRef+`","synced":false},{"credential":"`+keyRef+`","synced":false}]}` &&
			ev.Details["before"] != `{"passkeys":[{"credential":"`+keyRef+`","synced":false},{"credential":"`+phoneRef+`","synced":false}]}` ||
		ev.Details["after"] != `{"passkeys":[{"credential":"`+keyRef+`","synced":false}]}` {
		t.Errorf("webauthn.reset audit: got %+v", ev)
	}
	for _, s := range append(secrets, "Điện thoại") {
		for k, v := range ev.Details {
			if k != "reason" && strings.Contains(v, s) {
				t.Errorf("audit detail %s holds %q", k, s)
			}
		}
	}

	// Every passkey; then there is none to remove.
	pg = b.post(e.URL+reset, url.Values{"credential": {"all"}, "reason": {reason}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_webauthn_reset") || len(e.passkeys(citizen.id)) != 0 {
		t.Fatalf("remove all: got %d at %s, %d passkeys left", pg.status, pg.url, len(e.passkeys(citizen.id)))
	}
	if evs := e.auditEvents("webauthn.reset"); len(evs) != 2 || evs[1].Details["scope"] != "all" || evs[1].Details["after"] != `{"passkeys":[]}` {
		t.Errorf("second webauthn.reset audit: got %+v", evs)
	}
	if pg := b.post(e.URL+reset, url.Values{"credential": {"all"}, "reason": {reason}}); !strings.Contains(pg.url.RawQuery, "admin_err_no_passkey") {
		t.Errorf("remove with none left: got %d at %s, want the error", pg.status, pg.url)
	}
	if pg := b.get(e.URL + "/admin/citizens/" + citizen.id); strings.Contains(pg.body, `id="reset-webauthn"`) {
		t.Error("the removal form is offered with no passkey left")
	}

	// An administrator's passkeys: not for a helpdesk; an owner may.
	if pg := b.post(e.URL+"/admin/citizens/"+owner.id+"/webauthn/reset", url.Values{"credential": {"all"}, "reason": {reason}}); pg.status != http.StatusForbidden {
		t.Errorf("helpdesk removing an owner's passkey: got %d, want 403", pg.status)
	}
	if n := len(e.passkeys(owner.id)); n != 1 {
		t.Fatalf("owner's passkeys after the helpdesk's attempt: got %d, want 1", n)
	}
	ob, _ := e.adminBrowser(owner)
	pg = ob.post(e.URL+"/admin/citizens/"+owner.id+"/webauthn/reset", url.Values{"credential": {webauthn.Fingerprint(ownerKey)}, "reason": {"key replaced, old one destroyed"}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_webauthn_reset") || len(e.passkeys(owner.id)) != 0 {
		t.Errorf("owner removing a passkey: got %d at %s", pg.status, pg.url)
	}
}
