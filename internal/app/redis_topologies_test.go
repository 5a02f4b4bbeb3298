package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/testenv"
)

// CitizenID on a three-master Redis Cluster (real servers, made with
// redis-cli --cluster create) and PostgreSQL: logins, SSO, the account's
// session list, the live-session count, refresh, and logout all work, so
// no multi-key operation crosses slots.
func TestRedisCluster(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	e := start(t, true, func(c *config.Config) {
		c.Redis.URL = ""
		c.Redis.Cluster.Addrs = addrs
	})
	e.addCitizen(t, testNumber, testPassword)
	p := newPortal(t, e, "portal", []string{"openid", "offline_access"}, nil)
	b := newBrowser(t)
	tok := p.loginThrough(t, b, e, testNumber, testPassword)
	// SSO: a second login of the same browser asks nothing.
	if tok2 := p.loginThrough(t, b, e, "", ""); tok2.IDTokenClaims.Claims["sid"] != tok.IDTokenClaims.Claims["sid"] {
		t.Error("the second login started a new session: SSO lost on the Cluster")
	}
	if n, err := e.Sessions.CountLive(context.Background()); err != nil || n != 1 {
		t.Errorf("live sessions: got %d (%v), want 1", n, err)
	}
	if pg := b.get(e.URL + "/account/sessions"); pg.status != http.StatusOK || isLoginForm(pg) {
		t.Errorf("session list: got %d", pg.status)
	}
	if _, err := p.party.OAuthConfig().TokenSource(context.Background(), tok.Token).Token(); err != nil {
		t.Errorf("refresh: %v", err)
	}
	b.post(e.URL+"/account/logout", nil)
	if n, err := e.Sessions.CountLive(context.Background()); err != nil || n != 0 {
		t.Errorf("live sessions after logout: got %d (%v), want 0", n, err)
	}
	if pg := b.get(e.URL + "/readyz"); pg.status != http.StatusOK {
		t.Errorf("/readyz on the Cluster: got %d", pg.status)
	}
}

// With Sentinel, logins keep working across a master's crash: the
// sentinels promote the replica and CitizenID follows, without a restart.
// The error window is reported as a number (not asserted: it depends on
// the sentinels' down-after time, 1 s here).
func TestRedisSentinelFailover(t *testing.T) {
	s := testenv.StartRedisSentinels(t)
	e := start(t, true, func(c *config.Config) {
		c.Redis.URL = ""
		c.Redis.Sentinel = config.RedisSentinelConfig{Master: s.Name, Addrs: s.Addrs}
		c.Redis.Timeout = 500 * time.Millisecond
	})
	e.addCitizen(t, testNumber, testPassword)
	e.addClient(t, oidcSpec("portal", cbURL))
	login := func() bool {
		b := stoppingBrowser(t)
		pg := b.get(authorize(e, nil))
		if !isLoginForm(pg) {
			return false
		}
		return portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword)).Get("code") != ""
	}
	if !login() {
		t.Fatal("login before the failover failed")
	}
	s.Master.Kill()
	killed := time.Now()
	var firstFail, back time.Time
	failures := 0
	for deadline := killed.Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if login() {
			if failures > 0 || time.Since(killed) > 2*time.Second {
				back = time.Now()
				break
			}
			continue
		}
		if failures == 0 {
			firstFail = time.Now()
		}
		failures++
	}
	if back.IsZero() {
		t.Fatalf("logins did not come back within 60 s of the master's crash (%d failures)", failures)
	}
	window := time.Duration(0)
	if !firstFail.IsZero() {
		window = back.Sub(firstFail)
	}
	t.Logf("sentinel failover: %d failed logins, error window %v, logins back %v after the crash",
		failures, window.Round(10*time.Millisecond), back.Sub(killed).Round(10*time.Millisecond))
	for range 3 {
		if !login() {
			t.Error("a login after the failover failed")
		}
	}
}

// rediss:// with the operator's CA: CitizenID verifies the server's
// certificate against redis.ca_file (without it, against the system's
// roots, which do not know the test CA: the start fails).
func TestRedisTLS(t *testing.T) {
	url, ca := testenv.StartRedisTLS(t)
	e := start(t, true, func(c *config.Config) {
		c.Redis.URL, c.Redis.CAFile = url, ca
	})
	e.addCitizen(t, testNumber, testPassword)
	p := newPortal(t, e, "portal", []string{"openid"}, nil)
	p.loginThrough(t, newBrowser(t), e, testNumber, testPassword)
	if pg := newBrowser(t).get(e.URL + "/readyz"); pg.status != http.StatusOK {
		t.Errorf("/readyz over TLS: got %d", pg.status)
	}
	cfg := e.Config
	cfg.Redis.CAFile = ""
	if _, err := app.OpenRedis(context.Background(), &cfg, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("rediss:// without the CA: got %v, want a certificate error", err)
	}
}
