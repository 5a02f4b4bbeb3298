package app_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/store"
)

// A signed request object (RFC 9101) carries the request: parameters
// outside it are ignored, its claims parameter is honoured, and zitadel's
// rp exchanges the code with a private_key_jwt assertion made by
// zitadel's client package. Foreign keys, alg none, another client_id and
// a request_uri not from our PAR endpoint are refused.
func TestRequestObjectsAndClaimsParameter(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		f := newFAPIClient(t, e, "health", nil)
		verifier, pk := pkce()
		object := func(key any, mod func(map[string]any)) string {
			c := map[string]any{
				"iss": f.id, "aud": e.URL, "client_id": f.id, "response_type": "code", "redirect_uri": cbURL,
				"scope": "openid", "state": "from-object", "code_challenge": pk.Get("code_challenge"), "code_challenge_method": "S256",
				"claims": map[string]any{"id_token": map[string]any{"birthdate": nil}, "userinfo": map[string]any{"name": map[string]any{"essential": true}}},
				"exp":    time.Now().Add(time.Minute).Unix(),
			}
			if mod != nil {
				mod(c)
			}
			return sign(t, key, f.kid, "oauth-authz-req+jwt", c)
		}
		outside := func(request string) string {
			return e.URL + "/authorize?" + url.Values{"client_id": {f.id}, "redirect_uri": {cbURL}, "response_type": {"code"},
				"scope": {"openid email"}, "state": {"outside"}, "request": {request}}.Encode()
		}
		b := stoppingBrowser(t)
		pg := b.get(outside(object(f.key, nil)))
		if !isLoginForm(pg) {
			t.Fatalf("authorize with a request object: got %d %.200s, want the login form", pg.status, pg.body)
		}
		q := portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword))
		if q.Get("state") != "from-object" || q.Get("iss") != e.URL {
			t.Fatalf("authorization response: got %v, want the object's state and iss", q)
		}

		// zitadel's rp, authenticating with zitadel's own assertion.
		der, err := x509.MarshalPKCS8PrivateKey(f.key)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := client.NewSignerFromPrivateKeyByte(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.kid)
		if err != nil {
			t.Fatal(err)
		}
		assertion, err := client.SignedJWTProfileAssertion(f.id, []string{e.URL}, 5*time.Minute, signer)
		if err != nil {
			t.Fatal(err)
		}
		party, err := rp.NewRelyingPartyOIDC(ctx, e.URL, f.id, "", cbURL, []string{"openid"})
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](ctx, q.Get("code"), party, rp.WithCodeVerifier(verifier), rp.WithClientAssertionJWT(assertion))
		if err != nil {
			t.Fatalf("zitadel rp code exchange with private_key_jwt: %v", err)
		}
		id := tokens.IDTokenClaims
		if id.Birthdate == "" || id.Email != "" {
			t.Errorf("ID token: birthdate %q email %q, want the requested birthdate and no email (the scope outside the object does not count)", id.Birthdate, id.Email)
		}
		info, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, id.Subject, party)
		if err != nil || info.Name == "" || info.Email != "" {
			t.Errorf("userinfo: %v name %q email %q, want the requested name only", err, info.Name, info.Email)
		}

		// Refusals, to the portal (its redirect URI is registered), with iss.
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
			base64.RawURLEncoding.EncodeToString(mustJSON(t, map[string]any{"client_id": f.id, "response_type": "code", "redirect_uri": cbURL, "scope": "openid"})) + "."
		for name, req := range map[string]string{
			"foreign key":       object(newKey(t), nil),
			"alg none":          none,
			"another client_id": object(f.key, func(c map[string]any) { c["client_id"] = "portal" }),
			"expired":           object(f.key, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
			"wrong aud":         object(f.key, func(c map[string]any) { c["aud"] = "https://other.example" }),
		} {
			q := portalRedirect(t, stoppingBrowser(t).get(outside(req)))
			if q.Get("error") != "invalid_request_object" || q.Get("iss") != e.URL || q.Get("code") != "" {
				t.Errorf("request object, %s: got %v, want invalid_request_object with iss", name, q)
			}
		}
		// No remote request_uri: nothing is fetched, nothing redirected.
		remote := e.URL + "/authorize?" + url.Values{"client_id": {f.id}, "request_uri": {"https://attacker.example/request.jwt"}}.Encode()
		if pg := stoppingBrowser(t).get(remote); pg.status != http.StatusBadRequest || pg.header.Get("Location") != "" {
			t.Errorf("remote request_uri: got %d %q, want 400 and no redirect", pg.status, pg.header.Get("Location"))
		}

		// A client that must push refuses a plain request (and a request
		// object sent directly), to the portal.
		p := newFAPIClient(t, e, "land-par", func(c *store.Client) { c.RequirePAR = true })
		plain := e.URL + "/authorize?" + url.Values{"client_id": {p.id}, "redirect_uri": {cbURL}, "response_type": {"code"}, "scope": {"openid"}}.Encode()
		if q := portalRedirect(t, stoppingBrowser(t).get(plain)); q.Get("error") != "invalid_request" || q.Get("iss") != e.URL {
			t.Errorf("plain request by a --require-par client: got %v, want invalid_request with iss", q)
		}
		// PAR errors go to the client as JSON, not to a browser.
		st, body, _ := p.post("/par", p.authed(url.Values{"redirect_uri": {"https://attacker.example/cb"}, "response_type": {"code"}, "scope": {"openid"}}), nil)
		if st != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("PAR with an unregistered redirect URI: got %d %v, want 400 invalid_request", st, body)
		}
		st, body, _ = p.post("/par", p.authed(url.Values{"redirect_uri": {cbURL}, "response_type": {"code"}, "scope": {"openid"}, "code_challenge_method": {"plain"}, "code_challenge": {"abc"}}), nil)
		if st != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("PAR with PKCE plain: got %d %v, want 400 invalid_request", st, body)
		}
		// Another client cannot use this client's request_uri.
		st, body, _ = p.post("/par", p.authed(url.Values{"redirect_uri": {cbURL}, "response_type": {"code"}, "scope": {"openid"}}), nil)
		uri, _ := body["request_uri"].(string)
		if st != http.StatusCreated {
			t.Fatalf("PAR: got %d %v", st, body)
		}
		stolen := e.URL + "/authorize?" + url.Values{"client_id": {f.id}, "request_uri": {uri}}.Encode()
		if pg := stoppingBrowser(t).get(stolen); pg.status != http.StatusBadRequest || pg.header.Get("Location") != "" {
			t.Errorf("request_uri with another client_id: got %d %q, want 400 and no redirect", pg.status, pg.header.Get("Location"))
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
