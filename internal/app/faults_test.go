package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/testenv"
)

// through rewrites a server URL to go through a proxy to its host.
func through(t *testing.T, raw string) (string, *testenv.Proxy) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.StartProxy(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// When PostgreSQL or Redis is down or hung, CitizenID answers within its
// deadlines with 503 (a page, or the protocol's error) and Retry-After;
// a store failure is never "wrong password", "not registered" or "no
// session", never counted by the throttle, never echoed to a client; and
// everything works again once the server is back, with no restart.
func TestFaultsAreBoundedAndNobodysFault(t *testing.T) {
	var pg, rd *testenv.Proxy
	e := start(t, true, func(c *config.Config) {
		c.Database.URL, pg = through(t, c.Database.URL)
		c.Redis.URL, rd = through(t, c.Redis.URL)
		c.Database.Timeout, c.Redis.Timeout = time.Second, 500*time.Millisecond
		c.Login.FreeFailures, c.Login.IPFreeFailures = 3, 3
	})
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	conf := portalConf(e, "portal", secret, "openid", "offline_access")
	b := stoppingBrowser(t)
	tok := loginFor(t, e, conf, b)

	// bounded runs fn and checks it answered within limit.
	bounded := func(t *testing.T, what string, limit time.Duration, fn func()) {
		t.Helper()
		start := time.Now()
		fn()
		if took := time.Since(start); took > limit {
			t.Errorf("%s took %v, want at most %v", what, took, limit)
		}
	}
	ready := func() int {
		resp, err := http.Get(e.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	unavailable := func(t *testing.T, what string, pg page) {
		t.Helper()
		if pg.status != http.StatusServiceUnavailable || pg.header.Get("Retry-After") == "" {
			t.Errorf("%s: got %d (Retry-After %q) %.200s, want 503 with Retry-After", what, pg.status, pg.header.Get("Retry-After"), pg.body)
		}
	}

	for _, fault := range []struct {
		name  string
		apply func()
		limit time.Duration
	}{
		{"postgres down", pg.Down, 5 * time.Second},
		{"postgres hung", pg.Hang, 8 * time.Second},
	} {
		t.Run(fault.name, func(t *testing.T) {
			fresh := stoppingBrowser(t)
			form := fresh.get(authorize(e, nil))
			fault.apply()
			defer pg.Pass()
			bounded(t, "an authorization request", fault.limit, func() {
				unavailable(t, "authorize", stoppingBrowser(t).get(authorize(e, nil)))
			})
			// More attempts than the throttle allows: none is counted.
			for i := range 5 {
				bounded(t, "a login", fault.limit, func() {
					pg := fresh.login(e.URL, form, testNumber, testPassword)
					if pg.status == http.StatusUnauthorized || pg.status == http.StatusTooManyRequests {
						t.Fatalf("login %d: got %d, want 503: a store failure is not the citizen's", i, pg.status)
					}
					unavailable(t, "login", pg)
				})
			}
			bounded(t, "/readyz", 3*time.Second, func() {
				if got := ready(); got != http.StatusServiceUnavailable {
					t.Errorf("/readyz: got %d, want 503", got)
				}
			})
			bounded(t, "userinfo", fault.limit, func() {
				if got := userinfoStatus(t, e, tok.AccessToken); got/100 != 5 {
					t.Errorf("userinfo: got %d, want a 5xx: the token is not at fault", got)
				}
			})
			// The refresh grant: a standard error, no database text.
			bounded(t, "a refresh", fault.limit, func() {
				status, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
					[2]string{"portal", secret})
				if status/100 != 5 {
					t.Errorf("refresh: got %d %v, want a 5xx", status, body)
				}
				for _, leak := range []string{"FATAL", "dial", "connection", "sql", "postgres", "timeout"} {
					if d, _ := body["error_description"].(string); strings.Contains(strings.ToLower(d), strings.ToLower(leak)) {
						t.Errorf("refresh error names the cause: %q", d)
					}
				}
			})
			// An audited action while the database is away: its event is
			// kept on the node's disk, not dropped.
			e.Audit.Record(context.Background(), audit.Event{Actor: "system", Action: "test.outage", Outcome: "success",
				Details: map[string]string{"fault": fault.name}})
			pg.Pass()
			if err := e.Audit.Flush(context.Background()); err != nil {
				t.Fatalf("audit spool after recovery: %v", err)
			}
			events, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "test.outage", Limit: 10})
			if err != nil || len(events) == 0 || events[len(events)-1].Details["fault"] != fault.name {
				t.Errorf("the event recorded during the outage: got %+v (%v), want it in the log", events, err)
			}
			all, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
			if err != nil || store.VerifyAuditChain(all) != nil {
				t.Errorf("audit chain after the outage: %v", store.VerifyAuditChain(all))
			}
			// Back: the right password works at once (nothing was counted),
			// and the refresh token rotates.
			deadline := time.Now().Add(10 * time.Second)
			for ready() != http.StatusOK && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			got := fresh.login(e.URL, fresh.get(authorize(e, nil)), testNumber, testPassword)
			if q := portalRedirect(t, got); q.Get("code") == "" {
				t.Fatalf("after recovery: got %v, want a code", q)
			}
			next, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
			if err != nil {
				t.Fatalf("refresh after recovery: %v", err)
			}
			tok = next
		})
	}

	for _, fault := range []struct {
		name  string
		apply func()
	}{
		{"redis down", rd.Down},
		{"redis hung", rd.Hang},
	} {
		t.Run(fault.name, func(t *testing.T) {
			pending := stoppingBrowser(t)
			form := pending.get(authorize(e, nil))
			if !isLoginForm(form) {
				t.Fatalf("authorize: got %d at %s, want the login form", form.status, form.url)
			}
			// The form was shown at /authorize; the login goes on at its
			// transaction's URL, where the form posts.
			txnURL := e.URL + actionRE.FindStringSubmatch(form.body)[1]
			fault.apply()
			defer rd.Pass()
			// A login under way: 503, not "your login has expired".
			bounded(t, "a pending login's page", 4*time.Second, func() {
				unavailable(t, "pending login", pending.get(txnURL))
			})
			// A signed-in citizen's account page: 503, not the login page.
			bounded(t, "the account page", 4*time.Second, func() {
				pg := b.get(e.URL + "/account")
				if isLoginForm(pg) {
					t.Fatalf("account page with Redis %s: the login page, as if there were no session", fault.name)
				}
				unavailable(t, "account page", pg)
			})
			bounded(t, "/readyz", 3*time.Second, func() {
				if got := ready(); got != http.StatusServiceUnavailable {
					t.Errorf("/readyz: got %d, want 503", got)
				}
			})
			rd.Pass()
			deadline := time.Now().Add(10 * time.Second)
			for ready() != http.StatusOK && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if pg := b.get(e.URL + "/account"); pg.status != http.StatusOK || isLoginForm(pg) {
				t.Errorf("account page after Redis came back: got %d (login form %v)", pg.status, isLoginForm(pg))
			}
			if pg := pending.get(txnURL); !isLoginForm(pg) {
				t.Errorf("the pending login after Redis came back: got %d %.200s, want its form", pg.status, pg.body)
			}
		})
	}
}
