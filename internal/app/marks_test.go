package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/config"
	"golang.org/x/oauth2"
)

// A revoked access token, and the offline_access token of a session that
// was ended, stay inactive after Redis restarts empty (simulated by
// flushing it): the marks are durable and copied back.
func TestRevocationsSurviveARedisRestart(t *testing.T) {
	e := start(t, true, nil)
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, oidcSpec("portal", cbURL))
	conf := portalConf(e, "portal", secret, "offline_access")
	revoked := loginFor(t, e, conf, stoppingBrowser(t))
	if status, _, _ := tokenPost(t, e.URL+"/revoke", url.Values{"token": {revoked.AccessToken}}, [2]string{"portal", secret}); status != http.StatusOK {
		t.Fatalf("revoke: got %d", status)
	}
	b := stoppingBrowser(t)
	ended := loginFor(t, e, conf, b)
	b.post(e.URL+"/account/logout", nil)
	live := loginFor(t, e, conf, stoppingBrowser(t))
	for name, tok := range map[string]string{"revoked": revoked.AccessToken, "ended": ended.AccessToken} {
		if got := userinfoStatus(t, e, tok); got != http.StatusUnauthorized {
			t.Fatalf("%s token before the restart: got %d, want 401", name, got)
		}
	}

	if err := e.Redis.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"revoked": revoked.AccessToken, "ended": ended.AccessToken} {
		if got := userinfoStatus(t, e, tok); got != http.StatusUnauthorized {
			t.Errorf("%s token after Redis restarted empty: got %d, want 401", name, got)
		}
	}
	// An offline_access token nobody ended still works (its session is
	// gone with Redis, which is no logout).
	if got := userinfoStatus(t, e, live.AccessToken); got != http.StatusOK {
		t.Errorf("a live offline_access token after the restart: got %d, want 200", got)
	}
}

// Redis sizing: what a login and its code exchange leave behind lives no
// longer than it is useful: the used-code record for the replay window
// (minutes, not a refresh token's 8 h), the session's sid as long as the
// session, and a completed authorization request whose code nobody
// exchanged as long as its code (not the login's 15 minutes).
func TestRedisKeysDoNotOutliveTheirUse(t *testing.T) {
	e := start(t, true, nil)
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, oidcSpec("portal", cbURL))
	conf := portalConf(e, "portal", secret, "offline_access")
	loginFor(t, e, conf, stoppingBrowser(t))
	b := stoppingBrowser(t)
	pg := b.login(e.URL, b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), testNumber, testPassword)
	if portalRedirect(t, pg).Get("code") == "" {
		t.Fatal("no code")
	}
	ctx := context.Background()
	rdb := e.Redis.Client
	maxTTL := map[string]time.Duration{
		"cid:mark:codeused:": 11 * time.Minute,
		"cid:sid:":           e.Config.Session.IdleTimeout + 16*time.Minute,
		"cid:ar:":            e.Config.Tokens.CodeLifetime + 10*time.Second,
	}
	seen := map[string]bool{}
	iter := rdb.Scan(ctx, 0, "cid:*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		for p, limit := range maxTTL {
			if strings.HasPrefix(k, p) {
				seen[p] = true
				if ttl := rdb.TTL(ctx, k).Val(); ttl <= 0 || ttl > limit {
					t.Errorf("%s lives %v, want at most %v", k, ttl, limit)
				}
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(maxTTL) {
		t.Errorf("keys seen: %v, want one of each of %v", seen, maxTTL)
	}
	// The exchange is remembered by one mark, with what it issued.
	if marks := rdb.Keys(ctx, "cid:mark:*").Val(); len(marks) != 1 {
		t.Errorf("marks after one code exchange: %v, want one", marks)
	}
}

// A code replayed after Redis restarted empty still revokes what it
// issued (RFC 6749 §4.1.2): the used-code record is a durable mark for the
// replay window.
func TestCodeReplayAfterARedisRestart(t *testing.T) {
	replayRevokes(t, func(t *testing.T, e *env, _ *oauth2.Token) {
		if err := e.Redis.Client.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// A code exchanged by an older version still has its tokens revoked by a
// replay during the replay window after an upgrade: one that kept what the
// exchange issued in a second mark under the request's ID, and one that
// kept the access token's whole jti instead of its digest.
func TestCodeReplayOfAnOlderExchange(t *testing.T) {
	// olderMark rewrites the exchange's mark as an older version kept it:
	// the whole jti of the access token instead of its digest, and with
	// split, what the exchange issued in a mark of its own.
	olderMark := func(split bool) func(t *testing.T, e *env, tok *oauth2.Token) {
		return func(t *testing.T, e *env, tok *oauth2.Token) {
			ctx, rdb := context.Background(), e.Redis.Client
			keys := rdb.Keys(ctx, "cid:mark:codeused:*").Val()
			if len(keys) != 1 {
				t.Fatalf("code marks: %v, want one", keys)
			}
			var use map[string]any
			if err := json.Unmarshal([]byte(rdb.Get(ctx, keys[0]).Val()), &use); err != nil {
				t.Fatal(err)
			}
			_, claims := jwtClaims(t, tok.AccessToken)
			if use["jtid"] == nil || claims["jti"] == nil {
				t.Fatalf("the mark %v has no jtid, or the access token no jti", use)
			}
			delete(use, "jtid")
			use["jti"] = claims["jti"]
			marks := map[string]map[string]any{keys[0]: use}
			if split {
				issued := map[string]any{}
				for _, f := range []string{"jti", "jti_exp", "family"} {
					if use[f] == nil {
						t.Fatalf("the mark %v has no %q", use, f)
					}
					issued[f] = use[f]
					delete(use, f)
				}
				marks["cid:mark:issued:"+use["ar"].(string)] = issued
			}
			for k, v := range marks {
				b, _ := json.Marshal(v)
				if err := rdb.Set(ctx, k, b, 10*time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	t.Run("two marks", func(t *testing.T) { replayRevokes(t, olderMark(true)) })
	t.Run("whole jti", func(t *testing.T) { replayRevokes(t, olderMark(false)) })
}

// replayRevokes exchanges a code for tokens with offline_access, lets
// between change what the server holds, then replays the code: refused,
// and the exchange's access and refresh tokens revoked.
func replayRevokes(t *testing.T, between func(t *testing.T, e *env, tok *oauth2.Token)) {
	e := start(t, true, nil)
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, oidcSpec("portal", cbURL))
	conf := portalConf(e, "portal", secret, "offline_access")
	verifier := oauth2.GenerateVerifier()
	b := stoppingBrowser(t)
	pg := b.login(e.URL, b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))), testNumber, testPassword)
	code := portalRedirect(t, pg).Get("code")
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	between(t, e, tok)
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("the replayed code was accepted")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("refresh after the replay: accepted, want the family revoked")
	}
	if got := userinfoStatus(t, e, tok.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("the access token after the replay: got %d, want 401", got)
	}
}

// A finished login leaves neither its transaction nor the passkey
// challenge its password page offered for autofill (a password login
// used to leave the challenge for the ceremony's 5 minutes).
func TestFinishedLoginLeavesNoChallenge(t *testing.T) {
	e := start(t, false, func(c *config.Config) {
		c.Server.Issuer = strings.Replace(c.Server.Issuer, "127.0.0.1", "localhost", 1)
	})
	if e.WebAuthn == nil {
		t.Fatal("passkeys are off on a localhost issuer")
	}
	base := strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, oidcSpec("portal", cbURL))
	conf := portalConf(e, "portal", secret)
	conf.Endpoint.AuthURL = base + "/authorize"
	ctx := context.Background()
	count := func(pattern string) int {
		t.Helper()
		keys, err := e.Redis.Client.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	b := stoppingBrowser(t)
	pg := b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if !strings.Contains(pg.body, `id="webauthn-options"`) {
		t.Fatalf("the password page offers no passkey: %.300s", pg.body)
	}
	if n := count("cid:wal:*"); n != 1 {
		t.Fatalf("passkey challenges while the page is shown: %d, want 1", n)
	}
	if portalRedirect(t, b.login(base, pg, testNumber, testPassword)).Get("code") == "" {
		t.Fatal("no code")
	}
	for _, p := range []string{"cid:wal:*", "cid:lt:*"} {
		if n := count(p); n != 0 {
			t.Errorf("%s: %d keys left after the login finished", p, n)
		}
	}
}
