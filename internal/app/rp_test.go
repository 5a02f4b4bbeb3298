package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
)

// portal is a relying party built with zitadel/oidc's rp package, knowing
// only the discovery URL, its client id/secret and its redirect URI.
type portal struct {
	srv    *httptest.Server
	party  rp.RelyingParty
	tokens chan *zoidc.Tokens[*zoidc.IDTokenClaims]
	secret string // the client secret, for other clients of the same portal
}

func newPortal(t *testing.T, e *env, id string, scopes []string, configure func(*clients.Spec)) *portal {
	t.Helper()
	mux := http.NewServeMux()
	p := &portal{srv: httptest.NewServer(mux), tokens: make(chan *zoidc.Tokens[*zoidc.IDTokenClaims], 1)}
	t.Cleanup(p.srv.Close)
	spec := clients.Spec{
		ID: id, Name: "Cổng dịch vụ thuế", RedirectURIs: []string{p.srv.URL + "/callback"},
		PostLogoutRedirectURIs: []string{p.srv.URL + "/bye"},
	}
	if configure != nil {
		configure(&spec)
	}
	secret := e.addClient(t, spec)
	p.secret = secret
	key := []byte("0123456789abcdef0123456789abcdef")
	cookies := httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())
	party, err := rp.NewRelyingPartyOIDC(context.Background(), e.URL, id, secret, p.srv.URL+"/callback", scopes, rp.WithPKCE(cookies), rp.WithSigningAlgsFromDiscovery(),
		rp.WithAuthStyle(oauth2.AuthStyleInHeader)) // as registered: client_secret_basic
	if err != nil {
		t.Fatal(err)
	}
	p.party = party
	mux.Handle("/login", rp.AuthURLHandler(func() string { return "state-" + id }, party))
	mux.Handle("/callback", rp.CodeExchangeHandler(func(w http.ResponseWriter, r *http.Request, tok *zoidc.Tokens[*zoidc.IDTokenClaims], state string, _ rp.RelyingParty) {
		if state != "state-"+id {
			http.Error(w, "wrong state", http.StatusBadRequest)
			return
		}
		p.tokens <- tok
		w.Write([]byte("portal: logged in"))
	}, party))
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("portal: bye " + r.URL.Query().Get("state")))
	})
	return p
}

// loginThrough runs the browser through the portal's login and returns the tokens.
func (p *portal) loginThrough(t *testing.T, b *browser, e *env, number, pw string) *zoidc.Tokens[*zoidc.IDTokenClaims] {
	t.Helper()
	pg := b.get(p.srv.URL + "/login")
	if isLoginForm(pg) {
		pg = b.login(e.URL, pg, number, pw)
	}
	if pg.body != "portal: logged in" {
		t.Fatalf("after login: got status %d at %s: %.300s", pg.status, pg.url, pg.body)
	}
	return <-p.tokens
}

func TestRelyingPartyCodeFlow(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		p := newPortal(t, e, "tax-portal", []string{"openid", "profile", "email", "offline_access"}, nil)
		b := newBrowser(t)

		tok := p.loginThrough(t, b, e, testNumber, testPassword)
		c := tok.IDTokenClaims
		if c.Subject == "" || strings.Contains(c.Subject, testNumber) {
			t.Errorf("sub: got %q, want a pairwise subject that is not the citizen number", c.Subject)
		}
		if c.AuthenticationContextClassReference != "urn:citizenid:loa:1" {
			t.Errorf("acr: got %q, want urn:citizenid:loa:1", c.AuthenticationContextClassReference)
		}
		if !slices.Equal(c.AuthenticationMethodsReferences, []string{"pwd"}) {
			t.Errorf("amr: got %v, want [pwd]", c.AuthenticationMethodsReferences)
		}
		sid, _ := c.Claims["sid"].(string)
		if sid == "" {
			t.Error("sid: missing from the ID token")
		}
		if c.AuthTime == 0 {
			t.Error("auth_time: missing")
		}
		if c.Name != "Trần Thị Bình" || c.Birthdate != "1990-05-17" {
			t.Errorf("profile claims: got name %q birthdate %q", c.Name, c.Birthdate)
		}
		if _, ok := c.Claims["citizen_number"]; ok {
			t.Error("citizen_number released without the scope")
		}
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}

		info, err := rp.Userinfo[*zoidc.UserInfo](ctx, tok.AccessToken, "Bearer", c.Subject, p.party)
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != c.Subject || info.Email != "binh@example.vn" || info.Name != "Trần Thị Bình" {
			t.Errorf("userinfo: got sub %q email %q name %q", info.Subject, info.Email, info.Name)
		}

		// Refresh rotates; acr, amr and sid survive.
		tok2, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, p.party, tok.RefreshToken, "", "")
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
			t.Fatal("refresh: the refresh token was not rotated")
		}
		c2 := tok2.IDTokenClaims
		if c2.AuthenticationContextClassReference != "urn:citizenid:loa:1" || !slices.Equal(c2.AuthenticationMethodsReferences, []string{"pwd"}) {
			t.Errorf("after refresh: got acr %q amr %v, want loa:1 [pwd]", c2.AuthenticationContextClassReference, c2.AuthenticationMethodsReferences)
		}
		if c2.Subject != c.Subject || c2.Claims["sid"] != sid || c2.AuthTime != c.AuthTime {
			t.Errorf("after refresh: sub/sid/auth_time changed")
		}
		// The old refresh token is refused, and its reuse revokes the family.
		if _, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, p.party, tok.RefreshToken, "", ""); err == nil {
			t.Fatal("reused refresh token accepted")
		}
		if _, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, p.party, tok2.RefreshToken, "", ""); err == nil {
			t.Fatal("refresh token of a revoked family accepted")
		}

		// Same browser, same session: single sign-on, no form.
		tok3 := p.loginThrough(t, b, e, "", "")
		if tok3.IDTokenClaims.Claims["sid"] != sid {
			t.Error("SSO: a new session was created instead of reusing the existing one")
		}
		// Revoke the access token: userinfo refuses it.
		if err := rp.RevokeToken(ctx, p.party, tok3.AccessToken, "access_token"); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if _, err := rp.Userinfo[*zoidc.UserInfo](ctx, tok3.AccessToken, "Bearer", c.Subject, p.party); err == nil {
			t.Fatal("userinfo accepted a revoked access token")
		}

		// RP-initiated logout ends the SSO session and the session's refresh tokens.
		u, err := rp.EndSession(ctx, p.party, tok3.IDToken, p.srv.URL+"/bye", "st-1", "", nil)
		if err != nil {
			t.Fatalf("end session: %v", err)
		}
		if got := b.get(u.String()); got.body != "portal: bye st-1" {
			t.Errorf("post-logout redirect: got %q, want the portal's page with state", got.body)
		}
		if _, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, p.party, tok3.RefreshToken, "", ""); err == nil {
			t.Error("refresh token survived logout")
		}
		if pg := b.get(p.srv.URL + "/login"); !isLoginForm(pg) {
			t.Errorf("after logout: got %d %.200s, want the login form", pg.status, pg.body)
		}
	})
}
