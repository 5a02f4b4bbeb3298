package app_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// endings records every session a logout hook saw end, and how.
type endings struct {
	mu   sync.Mutex
	seen map[string][]string // SID → reasons
}

func (en *endings) hook(_ context.Context, ended *session.Session, how login.How) string {
	en.mu.Lock()
	defer en.mu.Unlock()
	en.seen[ended.SID] = append(en.seen[ended.SID], how.Reason)
	return how.Then
}

func (en *endings) of(sid string) []string {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.seen[sid]
}

// Every way a session ends goes through login.Engine.End: the session is
// gone, session.end is audited once, and every hook runs exactly once
// (OIDC's among them: the refresh tokens of the session end).
func TestEveryWayToEndASessionRunsEveryHookOnce(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	en := &endings{seen: map[string][]string{}}
	e.Login.OnLogout(en.hook)
	e.addCitizen(t, testNumber, testPassword)
	citizen, err := e.Store.CitizenByNumber(context.Background(), testNumber)
	if err != nil {
		t.Fatal(err)
	}
	// The portal hears of every ending on its back channel too.
	bc := newBCReceiver(t, e.URL, "tax-portal")
	bc.leeway = e.Config.Session.AbsoluteTimeout + time.Hour // the expiry moves the server's clock
	oidcPortal := newPortal(t, e.env, "tax-portal", []string{"openid", "offline_access"}, func(s *clients.Spec) {
		s.BackchannelLogoutURI = bc.URL()
	})
	sp := newSAMLPortal(t, e.env, "Cổng SAML", nil, nil)
	helpdesk, _ := e.newAPIClient(t, "helpdesk-bot", []string{"admin:helpdesk"}, nil)

	// loginBoth logs a new browser in to both portals and returns it, the
	// session's sid and the portal's refresh token.
	var lastIDToken string
	loginBoth := func(t *testing.T) (*browser, string, string) {
		t.Helper()
		b := newBrowser(t)
		tok := oidcPortal.loginThrough(t, b, e.env, testNumber, testPassword)
		_, trail := sp.hello(b, e.URL, "", "")
		wantNoLoginForm(t, trail)
		sid, _ := tok.IDTokenClaims.Claims["sid"].(string)
		lastIDToken = tok.IDToken
		return b, sid, tok.RefreshToken
	}
	ended := func(t *testing.T, sid, refresh, reason string) {
		t.Helper()
		if got := en.of(sid); len(got) != 1 || got[0] != reason {
			t.Errorf("hook runs for the session: got %v, want once, for %q", got, reason)
		}
		if _, err := e.Sessions.BySID(context.Background(), sid); err == nil {
			t.Error("the session is still there")
		}
		if rt, err := e.Store.RefreshTokenByHash(context.Background(), session.Hash(refresh)); err != nil || rt.RevokedAt.IsZero() {
			t.Errorf("the session's refresh token: got %+v, %v, want revoked", rt, err)
		}
		n := 0
		for _, ev := range e.auditEvents("session.end") {
			if ev.Details["reason"] == reason {
				n++
			}
		}
		if n != 1 {
			t.Errorf("session.end audited %d times for %q, want once", n, reason)
		}
		bc.waitFor(sid)
	}

	t.Run("the account page", func(t *testing.T) {
		b, sid, refresh := loginBoth(t)
		b.follow(b.post(e.URL+"/account/logout", nil))
		ended(t, sid, refresh, "logout")
	})
	t.Run("OIDC end_session", func(t *testing.T) {
		b, sid, refresh := loginBoth(t)
		b.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), oidcPortal.srv.URL) }
		hint := lastIDToken
		b.follow(b.get(e.URL + "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode()))
		ended(t, sid, refresh, "oidc end_session")
	})
	t.Run("SAML single logout from the portal", func(t *testing.T) {
		b, sid, refresh := loginBoth(t)
		b.follow(b.get(sp.srv.URL + "/logout"))
		ended(t, sid, refresh, "saml slo")
	})
	t.Run("an administrator ends the sessions", func(t *testing.T) {
		_, sid, refresh := loginBoth(t)
		if r := helpdesk.do("DELETE", "/citizens/"+citizen.ID+"/sessions", nil); r.status/100 != 2 {
			t.Fatalf("end sessions: got %d %s", r.status, r.body)
		}
		ended(t, sid, refresh, "administrator")
	})
	t.Run("the account is disabled", func(t *testing.T) {
		_, sid, refresh := loginBoth(t)
		if r := helpdesk.do("POST", "/citizens/"+citizen.ID+"/disable", map[string]any{}); r.status/100 != 2 {
			t.Fatalf("disable: got %d %s", r.status, r.body)
		}
		ended(t, sid, refresh, "account disabled")
		if err := e.Store.UpdateCitizen(context.Background(), citizen.ID, func(c *store.Citizen) error { c.Disabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	// Then: it moves the clock, which the SAML portal's does not follow.
	t.Run("the session expires", func(t *testing.T) {
		_, sid, refresh := loginBoth(t)
		e.clk.Advance(e.Config.Session.IdleTimeout + time.Minute)
		n, err := e.Login.SweepExpired(context.Background(), 100)
		if err != nil || n != 1 {
			t.Fatalf("sweep: got %d (%v), want the one session", n, err)
		}
		if again, _ := e.Login.SweepExpired(context.Background(), 100); again != 0 {
			t.Errorf("a second sweep ended %d more", again)
		}
		if got := en.of(sid); len(got) != 1 || got[0] != login.ReasonExpired {
			t.Errorf("hook runs for the expired session: got %v, want once", got)
		}
		bc.waitFor(sid)
		// Nobody logged out: the portal's offline_access token lives on.
		if rt, err := e.Store.RefreshTokenByHash(context.Background(), session.Hash(refresh)); err != nil || !rt.RevokedAt.IsZero() {
			t.Errorf("the refresh token after expiry: got %+v, %v, want still valid", rt, err)
		}
	})
	// The console's client page lists the deliveries.
	t.Run("the console lists the deliveries", func(t *testing.T) {
		owner := e.addPerson(ownerNumber, false, "owner")
		b, _ := e.adminBrowser(owner)
		pg := b.get(e.URL + "/admin/clients/tax-portal")
		if n := strings.Count(pg.body, `class="logout-delivery"`); n < 5 || !strings.Contains(pg.body, "đã gửi") {
			t.Errorf("client page: %d deliveries listed, want the 5 logouts above, delivered: %.300s", n, pg.body)
		}
	})
}
