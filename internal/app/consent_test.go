package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml/samlsp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

// plainPortal is a portal's redirect URI that only shows what it got.
func plainPortal(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("plain portal")) }))
	t.Cleanup(srv.Close)
	return srv
}

// authorizeAs opens an authorization request of conf in b, with extra
// parameters given as name, value pairs.
func authorizeAs(b *browser, conf *oauth2.Config, params ...string) page {
	b.t.Helper()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	return b.get(conf.AuthCodeURL("st", opts...))
}

// answer is what the portal's redirect URI received: a code, or an error.
func answer(t *testing.T, pg page, redirect string) (code, errCode string) {
	t.Helper()
	if !strings.HasPrefix(pg.url.String(), redirect) {
		t.Fatalf("got %s (status %d): %.300s, want the portal's redirect URI", pg.url, pg.status, pg.body)
	}
	q := pg.url.Query()
	return q.Get("code"), q.Get("error")
}

func wantConsentPage(t *testing.T, pg page, want ...string) {
	t.Helper()
	if !isConsentPage(pg) {
		t.Fatalf("got %s (status %d): %.300s, want the consent page", pg.url, pg.status, pg.body)
	}
	for _, w := range want {
		if !strings.Contains(pg.body, w) {
			t.Errorf("consent page: %q missing", w)
		}
	}
}

func deny(b *browser, pg page) page {
	b.t.Helper()
	m := actionRE.FindStringSubmatch(pg.body)
	return b.post(pg.url.Scheme+"://"+pg.url.Host+m[1], url.Values{"step": {"consent"}, "decision": {"deny"}})
}

var portalWithdrawRE = regexp.MustCompile(`(?s)<li class="portal">.*?<h2 class="portal-name">([^<]*)</h2>.*?name="portal" value="([^"]+)".*?class="portal-withdraw"`)

// wantAudit checks the audit log has an event of each action.
func wantAudit(t *testing.T, e *env, actions ...string) {
	t.Helper()
	for _, a := range actions {
		got, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: a})
		if err != nil || len(got) == 0 {
			t.Errorf("audit %s: got %d events, %v; want one", a, len(got), err)
		}
	}
}

// introspect asks the introspection endpoint, as the client, whether the
// token is active.
func introspect(t *testing.T, e *env, clientID, secret, token string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("introspection: status %d: %v", resp.StatusCode, err)
	}
	return out.Active
}

func TestConsentOIDC(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		plain := plainPortal(t)
		p := newPortal(t, e, "tax-portal", []string{"openid", "profile", "offline_access"}, func(s *clients.Spec) {
			s.RedirectURIs = append(s.RedirectURIs, plain.URL+"/cb")
		})
		conf := func(scopes ...string) *oauth2.Config {
			return &oauth2.Config{ClientID: "tax-portal", ClientSecret: p.secret, RedirectURL: plain.URL + "/cb", Scopes: scopes,
				Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"}}
		}
		b := newBrowser(t)
		b.manualConsent = true

		// First login: the page names the portal and what it gets.
		pg := b.login(e.URL, b.get(p.srv.URL+"/login"), testNumber, testPassword)
		wantConsentPage(t, pg, "Cổng dịch vụ thuế", "Họ và tên", "Ngày sinh", `id="consent-deny"`)
		if strings.Contains(pg.body, "Địa chỉ email") {
			t.Error("consent page: email listed, the portal did not ask for it")
		}
		if got := b.approveConsent(pg); got.body != "portal: logged in" {
			t.Fatalf("after approving: got %s %.300s", got.url, got.body)
		}
		tok := <-p.tokens
		if tok.IDTokenClaims.Name != "Trần Thị Bình" || tok.IDTokenClaims.Birthdate != "1990-05-17" {
			t.Errorf("ID token: got name %q birthdate %q", tok.IDTokenClaims.Name, tok.IDTokenClaims.Birthdate)
		}
		c, err := e.Store.ActiveConsent(ctx, e.citizenID(t), "oidc:tax-portal")
		if err != nil || c.Basis != store.BasisConsent || strings.Join(c.Attributes, " ") != "name birthdate identity_level" {
			t.Fatalf("stored consent: got %+v, %v", c, err)
		}

		// Same scopes again: no page.
		if got := b.get(p.srv.URL + "/login"); got.body != "portal: logged in" {
			t.Fatalf("second login: got %s %.300s, want no consent page", got.url, got.body)
		}
		<-p.tokens

		// More scopes: asked again, for everything.
		wantConsentPage(t, authorizeAs(b, conf("openid", "profile", "email")), "Địa chỉ email", "Họ và tên")
		// prompt=consent: asked though covered.
		pg = authorizeAs(b, conf("openid", "profile"), "prompt", "consent")
		wantConsentPage(t, pg, "Họ và tên")
		if code, _ := answer(t, b.approveConsent(pg), plain.URL); code == "" {
			t.Error("prompt=consent approved: no code")
		}
		// prompt=none with what is covered: a code.
		if code, _ := answer(t, authorizeAs(b, conf("openid", "profile"), "prompt", "none"), plain.URL); code == "" {
			t.Error("prompt=none, consent covers: no code")
		}
		// prompt=none without consent for email: consent_required.
		if _, errCode := answer(t, authorizeAs(b, conf("openid", "email"), "prompt", "none"), plain.URL); errCode != "consent_required" {
			t.Errorf("prompt=none without consent: got error %q, want consent_required", errCode)
		}
		// Declined: access_denied.
		if _, errCode := answer(t, deny(b, authorizeAs(b, conf("openid", "phone"))), plain.URL); errCode != "access_denied" {
			t.Errorf("declined: got error %q, want access_denied", errCode)
		}
		// Nothing released: no page.
		if code, _ := answer(t, authorizeAs(b, conf("openid")), plain.URL); code == "" {
			t.Error("openid only: no code")
		}

		if !introspect(t, e, "tax-portal", p.secret, tok.AccessToken) {
			t.Fatal("introspection before the withdrawal: the access token is inactive")
		}
		// Withdraw on /account/portals.
		pg = b.get(e.URL + "/account/portals")
		m := portalWithdrawRE.FindStringSubmatch(pg.body)
		if m == nil || m[1] != "Cổng dịch vụ thuế" || m[2] != "oidc:tax-portal" {
			t.Fatalf("portals page: got %v in %.500s", m, pg.body)
		}
		if got := b.post(e.URL+"/account/portals/withdraw", url.Values{"portal": {m[2]}}); strings.Contains(got.body, `class="portal"`) {
			t.Errorf("after withdrawing: the portal is still listed: %.300s", got.body)
		}
		_, err = rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, p.party, tok.RefreshToken, "", "")
		var oerr *zoidc.Error
		if !errors.As(err, &oerr) || oerr.ErrorType != zoidc.InvalidGrant {
			t.Errorf("refresh after withdrawal: got %v, want invalid_grant", err)
		}
		if _, err := rp.Userinfo[*zoidc.UserInfo](ctx, tok.AccessToken, "Bearer", tok.IDTokenClaims.Subject, p.party); err == nil {
			t.Error("userinfo accepted an access token issued before the withdrawal")
		}
		if active := introspect(t, e, "tax-portal", p.secret, tok.AccessToken); active {
			t.Error("introspection: an access token issued before the withdrawal is active")
		}
		if _, err := e.Store.ActiveConsent(ctx, e.citizenID(t), "oidc:tax-portal"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consent after withdrawal: got %v, want none in force", err)
		}
		wantAudit(t, e, "consent.grant", "consent.withdraw")
		// The next login asks again; the new token works.
		pg = b.get(p.srv.URL + "/login")
		wantConsentPage(t, pg, "Họ và tên")
		b.approveConsent(pg)
		tok = <-p.tokens
		if _, err := rp.Userinfo[*zoidc.UserInfo](ctx, tok.AccessToken, "Bearer", tok.IDTokenClaims.Subject, p.party); err != nil {
			t.Errorf("userinfo with a token issued after consenting again: %v", err)
		}
	})
}

func TestConsentLegalBasis(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		const basis = "Luật Quản lý thuế 2019, Điều 17"
		p := newPortal(t, e, "tax-portal", []string{"openid", "profile"}, func(s *clients.Spec) { s.LegalBasis = basis })
		b := newBrowser(t)
		b.manualConsent = true
		pg := b.login(e.URL, b.get(p.srv.URL+"/login"), testNumber, testPassword)
		wantConsentPage(t, pg, basis, "Họ và tên", "Thông báo")
		if strings.Contains(pg.body, `id="consent-deny"`) {
			t.Error("legal-basis notice: a decline button")
		}
		if got := b.approveConsent(pg); got.body != "portal: logged in" {
			t.Fatalf("after continuing: got %s %.300s", got.url, got.body)
		}
		<-p.tokens
		c, err := e.Store.ActiveConsent(ctx, e.citizenID(t), "oidc:tax-portal")
		if err != nil || c.Basis != store.BasisLegal || c.LegalBasis != basis {
			t.Fatalf("recorded notice: got %+v, %v", c, err)
		}
		if got := b.get(p.srv.URL + "/login"); got.body != "portal: logged in" {
			t.Fatalf("second login: got %s %.300s, want no notice", got.url, got.body)
		}
		<-p.tokens
	})
}

func TestConsentSAML(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		p := newSAMLPortal(t, e, "Cổng bảo hiểm", nil, func(s *citizensaml.SPSpec) { s.Attributes = []string{"name", "birthdate"} })
		none := newSAMLPortal(t, e, "Cổng tra cứu", func(o *samlsp.Options) {}, func(s *citizensaml.SPSpec) { s.Attributes = []string{} })
		b := newBrowser(t)
		b.manualConsent = true

		// Walk to the consent page.
		toConsent := func() page {
			pg := b.get(p.srv.URL + "/hello")
			for range 4 {
				switch {
				case isConsentPage(pg):
					return pg
				case isLoginForm(pg):
					pg = b.login(e.URL, pg, testNumber, testPassword)
				case samlFormRE.MatchString(pg.body):
					pg = b.postSAMLForm(pg)
				}
			}
			t.Fatalf("no consent page: got %s %.300s", pg.url, pg.body)
			return pg
		}
		pg := toConsent()
		wantConsentPage(t, pg, "Cổng bảo hiểm", "Họ và tên", "Ngày sinh")
		if status, _ := samlResponseStatus(t, deny(b, pg)); status != "RequestDenied" {
			t.Errorf("declined: got status %s, want RequestDenied", status)
		}

		// Approved: the assertion, with the attributes.
		pg = b.postSAMLForm(b.approveConsent(toConsent()))
		if !strings.Contains(pg.body, "Trần Thị Bình") || !strings.Contains(pg.body, "1990-05-17") {
			t.Errorf("after approving: got %s %.300s, want the portal's page with name and birthdate", pg.url, pg.body)
		}
		// A portal receiving nothing: no page.
		seen2, trail := none.hello(b, e.URL, "", "")
		for _, pg := range trail {
			if isConsentPage(pg) {
				t.Error("consent page for a portal that receives no personal data")
			}
		}
		if seen2.NameID == "" {
			t.Error("portal receiving nothing: no assertion")
		}
	})
}
