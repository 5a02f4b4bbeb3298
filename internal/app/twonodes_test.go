package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

// twoNodes starts nodes A and B behind A's issuer (one issuer, two
// listeners), on one PostgreSQL and one Redis, with one master key;
// tweak, when set, adjusts node 0's (A) and node 1's (B) configuration.
func twoNodes(t *testing.T, tweak func(node int, c *config.Config)) (a, b *env) {
	master := strings.Repeat("5a", 32)
	a = start(t, true, func(c *config.Config) {
		c.Keys.MasterKey = master
		if tweak != nil {
			tweak(0, c)
		}
	})
	b = start(t, true, func(c *config.Config) {
		c.Server.Issuer = a.URL
		c.Database.URL, c.Redis.URL = a.Config.Database.URL, a.Config.Redis.URL
		c.Keys.MasterKey = master
		if tweak != nil {
			tweak(1, c)
		}
	})
	return a, b
}

// Two nodes behind one issuer, on one PostgreSQL and one Redis: SSO
// started on node A continues on node B, a refresh token from A works on
// B, a revocation on A is effective on B at once, a logout on B ends the
// session for A, and a key rotation on A is published by B within the
// JWKS cache time.
func TestTwoNodes(t *testing.T) {
	a, b := twoNodes(t, func(_ int, c *config.Config) { c.Keys.CacheTTL = 300 * time.Millisecond })
	a.addCitizen(t, testNumber, testPassword)
	secret := a.addClient(t, oidcSpec("portal", cbURL))
	onA := portalConf(a, "portal", secret, "offline_access")
	onB := portalConf(a, "portal", secret, "offline_access")
	onB.Endpoint = oauth2.Endpoint{AuthURL: b.URL + "/authorize", TokenURL: b.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}

	// A browser logs in on A; its cookie (host 127.0.0.1, any port) goes to B.
	br := stoppingBrowser(t)
	tok := loginFor(t, a, onA, br)
	verifier := oauth2.GenerateVerifier()
	pg := br.get(onB.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	code := portalRedirect(t, pg).Get("code")
	if code == "" {
		t.Fatalf("SSO on node B: got %v, want a code without a login", portalRedirect(t, pg))
	}
	tokB, err := onB.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code from B exchanged on B: %v", err)
	}
	if _, err := onB.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("A's refresh token on B: %v", err)
	}

	// Revoked on A: inactive on B at once.
	if got := userinfoStatus(t, b, tokB.AccessToken); got != http.StatusOK {
		t.Fatalf("userinfo on B before the revocation: got %d", got)
	}
	if status, _, _ := tokenPost(t, a.URL+"/revoke", url.Values{"token": {tokB.AccessToken}}, [2]string{"portal", secret}); status != http.StatusOK {
		t.Fatalf("revoke on A: got %d", status)
	}
	if got := userinfoStatus(t, b, tokB.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("userinfo on B after the revocation on A: got %d, want 401", got)
	}

	// A key rotation on A: B publishes the new key within the cache time.
	before := kids(t, b)
	if _, err := a.Keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && strings.Join(kids(t, b), " ") == strings.Join(before, " ") {
		time.Sleep(50 * time.Millisecond)
	}
	if after := kids(t, b); strings.Join(after, " ") == strings.Join(before, " ") {
		t.Errorf("B's JWKS after the rotation on A: still %v", after)
	}

	// Logout on B: A has no session for the browser any more.
	br.post(b.URL+"/account/logout", nil)
	pg = br.get(onA.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	if q := portalRedirect(t, pg); q.Get("error") != "login_required" {
		t.Errorf("prompt=none on A after the logout on B: got %v, want login_required", q)
	}
}

// kids are the key ids node e publishes.
func kids(t *testing.T, e *env) []string {
	t.Helper()
	var set struct{ Keys []struct{ Kid string } }
	getJSON(t, e.URL+"/keys", &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// Clients are cached in each node's memory, and a change on one node (or
// by the CLI, straight in the database) reaches every node within the
// cache's refresh time: a client disabled through node A is refused by
// node B within a second, though B had it cached.
func TestClientCacheAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, func(_ int, c *config.Config) { c.Tokens.ClientCacheRefresh = 500 * time.Millisecond })
	secret := a.addClient(t, oidcSpec("portal", cbURL))
	authenticates := func(e *env) bool {
		st, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}}, [2]string{"portal", secret})
		return st == http.StatusBadRequest && body["error"] == "invalid_grant"
	}
	if !authenticates(a) || !authenticates(b) {
		t.Fatal("the client does not authenticate on both nodes")
	}
	if err := a.Store.UpdateClient(context.Background(), "portal", func(c *store.Client) error { c.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	disabled := time.Now()
	for authenticates(b) && time.Since(disabled) < 3*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(disabled); authenticates(b) || took > time.Second {
		t.Errorf("node B refused the disabled client after %s, want within a second", took.Round(time.Millisecond))
	}
	if authenticates(a) {
		t.Error("node A still accepts the disabled client")
	}
}

// A portal that just authenticated is not asked about throttling again on
// that node for tokens.client_cache_refresh; failures counted through
// another node throttle it there once that time is up, and a wrong secret
// through the same node at once.
func TestClientThrottleAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, func(node int, c *config.Config) {
		c.Tokens.ClientCacheRefresh = []time.Duration{10 * time.Second, 500 * time.Millisecond}[node]
	})
	// invalid_grant: the client authenticated, the grant was refused.
	authenticates := func(e *env, id, secret string) bool {
		st, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}}, [2]string{id, secret})
		return st == http.StatusBadRequest && body["error"] == "invalid_grant"
	}
	guess := func(e *env, id string) {
		for i := range e.Config.Login.FreeFailures + 1 {
			if authenticates(e, id, fmt.Sprintf("wrong secret number %02d of the attacker", i)) {
				t.Fatalf("wrong secret %d authenticated %s", i, id)
			}
		}
	}

	// Node A remembers the portal for ten seconds: failures counted
	// through B do not reach it within that time, a wrong secret through A
	// does at once.
	secretA := a.addClient(t, oidcSpec("portal-a", cbURL))
	if !authenticates(a, "portal-a", secretA) {
		t.Fatal("portal-a does not authenticate on node A")
	}
	guess(b, "portal-a")
	if authenticates(b, "portal-a", secretA) {
		t.Error("node B accepts the right secret after the guesses it counted")
	}
	if !authenticates(a, "portal-a", secretA) {
		t.Error("node A asked Redis again within the time it remembers an unthrottled portal")
	}
	if authenticates(a, "portal-a", "one more wrong secret, through node A") {
		t.Fatal("a wrong secret authenticated")
	}
	if authenticates(a, "portal-a", secretA) {
		t.Error("node A accepts the right secret after a wrong one through A while throttled")
	}

	// Node B remembers for half a second: guesses through A throttle B
	// within a second.
	secretB := a.addClient(t, oidcSpec("portal-b", cbURL))
	if !authenticates(b, "portal-b", secretB) {
		t.Fatal("portal-b does not authenticate on node B")
	}
	guess(a, "portal-b")
	counted := time.Now()
	for authenticates(b, "portal-b", secretB) && time.Since(counted) < 3*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(counted); authenticates(b, "portal-b", secretB) || took > time.Second {
		t.Errorf("node B throttled the portal %s after the guesses through A, want within a second", took.Round(time.Millisecond))
	}
}
