package app_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/store"
)

// bcReceiver is a portal's back-channel logout endpoint: it verifies each
// logout token with golang-jwt (not the JOSE library that signs them)
// against the issuer's published keys, and records the claims.
type bcReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	client string
	// fail answers 503 to that many requests first; hang holds each
	// request that long.
	fail atomic.Int32
	hang time.Duration
	// leeway accepts a token issued by a server whose test clock was
	// moved ahead.
	leeway time.Duration

	mu       sync.Mutex
	attempts int
	got      []jwt.MapClaims
	bad      []string
}

func newBCReceiver(t *testing.T, issuer, client string) *bcReceiver {
	rc := &bcReceiver{t: t, issuer: issuer, client: client}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *bcReceiver) URL() string { return rc.srv.URL + "/backchannel" }

func (rc *bcReceiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.attempts++
	rc.mu.Unlock()
	if rc.hang > 0 {
		select {
		case <-time.After(rc.hang):
		case <-r.Context().Done():
			return
		}
	}
	if rc.fail.Add(-1) >= 0 {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		rc.reject(w, "not a form POST")
		return
	}
	raw := r.PostFormValue("logout_token")
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, rc.key, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(rc.issuer),
		jwt.WithAudience(rc.client), jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithLeeway(rc.leeway))
	if err != nil {
		rc.reject(w, err.Error())
		return
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	events, _ := claims["events"].(map[string]any)
	event, isObject := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
	switch {
	case tok.Header["typ"] != "logout+jwt":
		rc.reject(w, "typ is not logout+jwt")
	case exp.Sub(iat.Time) > 2*time.Minute:
		rc.reject(w, "lives longer than 2 minutes")
	case !isObject || len(event) != 0:
		rc.reject(w, "no back-channel logout event")
	case claims["sid"] == nil || claims["sub"] == nil || claims["jti"] == nil:
		rc.reject(w, "sid, sub or jti missing")
	case claims["nonce"] != nil:
		rc.reject(w, "a nonce")
	default:
		rc.mu.Lock()
		rc.got = append(rc.got, claims)
		rc.mu.Unlock()
	}
}

func (rc *bcReceiver) reject(w http.ResponseWriter, why string) {
	rc.mu.Lock()
	rc.bad = append(rc.bad, why)
	rc.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

// key finds the token's key in the issuer's JWKS.
func (rc *bcReceiver) key(tok *jwt.Token) (any, error) {
	resp, err := http.Get(rc.issuer + "/keys")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.Kid == tok.Header["kid"] {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
		}
	}
	return nil, jwt.ErrTokenUnverifiable
}

// waitFor waits (bounded) for a verified token with sid and returns it.
func (rc *bcReceiver) waitFor(sid string) jwt.MapClaims {
	rc.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rc.mu.Lock()
		for _, c := range rc.got {
			if c["sid"] == sid {
				rc.mu.Unlock()
				return c
			}
		}
		bad := rc.bad
		rc.mu.Unlock()
		if len(bad) > 0 {
			rc.t.Fatalf("logout token refused: %v", bad)
		}
	}
	rc.t.Fatalf("no logout token for sid %s", sid)
	return nil
}

func (rc *bcReceiver) count() (attempts, verified int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts, len(rc.got)
}

// fastBackchannel makes the delivery rules short for tests.
func fastBackchannel(c *config.Config) {
	c.BackchannelLogout.PollInterval = 20 * time.Millisecond
	c.BackchannelLogout.RetryBase = 50 * time.Millisecond
	c.BackchannelLogout.MaxWait = 200 * time.Millisecond
	c.BackchannelLogout.Timeout = 300 * time.Millisecond
	c.BackchannelLogout.GiveUpAfter = 2 * time.Second
}

// A portal's server hears of a logout: a failing receiver gets it again
// until it answers (delivered once), a hanging one is bounded by the
// timeout and given up in the end, visibly; discovery says so.
func TestBackchannelLogoutRetries(t *testing.T) {
	for _, production := range []bool{false, true} {
		name := map[bool]string{false: "embedded", true: "postgres"}[production]
		t.Run(name, func(t *testing.T) {
			e := start(t, production, fastBackchannel)
			e.addCitizen(t, testNumber, testPassword)
			var d map[string]any
			getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
			if d["backchannel_logout_supported"] != true || d["backchannel_logout_session_supported"] != true {
				t.Errorf("discovery: backchannel_logout_supported %v, backchannel_logout_session_supported %v",
					d["backchannel_logout_supported"], d["backchannel_logout_session_supported"])
			}

			flaky := newBCReceiver(t, e.URL, "flaky")
			flaky.fail.Store(2)
			hung := newBCReceiver(t, e.URL, "hung")
			hung.hang = 2 * time.Second
			p1 := newPortal(t, e, "flaky", []string{"openid"}, func(s *clients.Spec) {
				s.BackchannelLogoutURI, s.BackchannelLogoutSessionRequired = flaky.URL(), true
			})
			p2 := newPortal(t, e, "hung", []string{"openid"}, func(s *clients.Spec) { s.BackchannelLogoutURI = hung.URL() })
			b := newBrowser(t)
			tok := p1.loginThrough(t, b, e, testNumber, testPassword)
			p2.loginThrough(t, b, e, testNumber, testPassword)
			sid, _ := tok.IDTokenClaims.Claims["sid"].(string)

			started := time.Now()
			if pg := b.post(e.URL+"/account/logout", nil); pg.status != http.StatusOK {
				t.Fatalf("logout: got %d", pg.status)
			}
			if waited := time.Since(started); waited > time.Second {
				t.Errorf("the logout page waited %v for deliveries", waited)
			}
			claims := flaky.waitFor(sid)
			if claims["sub"] != tok.IDTokenClaims.Subject {
				t.Errorf("logout token sub %v, want the ID token's %s", claims["sub"], tok.IDTokenClaims.Subject)
			}
			if attempts, verified := flaky.count(); attempts != 3 || verified != 1 {
				t.Errorf("flaky receiver: %d attempts, %d verified; want 3 and 1", attempts, verified)
			}
			wantOutbox(t, e, "flaky", store.OutboxDelivered)

			// The hung one: bounded attempts, then failed.
			wantOutbox(t, e, "hung", store.OutboxFailed)
			if attempts, _ := hung.count(); attempts < 2 || attempts > 12 {
				t.Errorf("hung receiver: %d attempts, want a few bounded ones", attempts)
			}
			wantAudit(t, e, "oidc.backchannel_logout")
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				got, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "backchannel_logout.failed"})
				if err == nil && len(got) == 1 && got[0].Target == "client:hung" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("audit backchannel_logout.failed: got %+v (%v), want one for client:hung", got, err)
				}
			}
		})
	}
}

func outboxStatus(t *testing.T, e *env, client string) string {
	t.Helper()
	msgs, err := e.Store.ListOutbox(context.Background(), oidc.KindLogout, client, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox of %s: got %d messages (%v), want 1", client, len(msgs), err)
	}
	return msgs[0].Status
}

// wantOutbox waits (bounded) for the logout to client to leave pending
// and checks its state.
func wantOutbox(t *testing.T, e *env, client, status string) {
	t.Helper()
	got := outboxStatus(t, e, client)
	for deadline := time.Now().Add(10 * time.Second); got == store.OutboxPending && got != status && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		got = outboxStatus(t, e, client)
	}
	if got != status {
		t.Errorf("logout to %s: %s, want %s", client, got, status)
	}
}
