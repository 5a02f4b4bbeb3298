package app_test

import (
	"crypto/ecdsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/citizenid/citizenid/internal/store"
)

// A FAPI 2.0 portal end to end: PAR with private_key_jwt, a login, the
// code with iss, DPoP-bound tokens (nonce flow), userinfo and
// introspection with proofs; and every refusal the profile promises.
func TestFAPI2Portal(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		f := newFAPIClient(t, e, "tax", func(c *store.Client) { c.Profile = store.ProfileFAPI2 })
		verifier, params := pkce()
		params.Set("client_id", f.id)
		params.Set("response_type", "code")
		params.Set("redirect_uri", cbURL)
		params.Set("scope", "openid profile offline_access")
		params.Set("state", "st-fapi")

		// A plain authorization request is refused, to the portal, with iss.
		plain := stoppingBrowser(t).get(e.URL + "/authorize?" + params.Encode())
		if q := portalRedirect(t, plain); q.Get("error") != "invalid_request" || q.Get("iss") != e.URL || q.Get("state") != "st-fapi" {
			t.Errorf("plain authorization request by a fapi2 client: got %v, want invalid_request with iss and state", q)
		}

		// A client secret is not how this client authenticates.
		form := url.Values{}
		for k, v := range params {
			form[k] = v
		}
		if st, body, _ := f.post("/par", form, map[string]string{"Authorization": "Basic " + basic(f.id, "a-secret-it-does-not-have-000000000")}); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("PAR with a client secret: got %d %v, want 401 invalid_client", st, body)
		}
		// Pushed with a client assertion: a single-use request_uri.
		st, body, _ := f.post("/par", f.authed(form), nil)
		requestURI, _ := body["request_uri"].(string)
		if st != http.StatusCreated || !strings.HasPrefix(requestURI, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(60) {
			t.Fatalf("PAR: got %d %v, want 201 with a request_uri for 60 s", st, body)
		}
		b := stoppingBrowser(t)
		authz := e.URL + "/authorize?" + url.Values{"client_id": {f.id}, "request_uri": {requestURI}}.Encode()
		pg := b.get(authz)
		if !isLoginForm(pg) {
			t.Fatalf("authorize with the request_uri: got %d %.200s, want the login form", pg.status, pg.body)
		}
		q := portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword))
		if q.Get("iss") != e.URL || q.Get("state") != "st-fapi" || q.Get("code") == "" {
			t.Fatalf("authorization response: got %v, want code, state and iss=%s (RFC 9207)", q, e.URL)
		}
		if again := stoppingBrowser(t).get(authz); again.status != http.StatusBadRequest || again.header.Get("Location") != "" {
			t.Errorf("request_uri used twice: got %d %q, want 400 and no redirect", again.status, again.header.Get("Location"))
		}

		// Tokens: DPoP is required, with a nonce.
		tokenForm := func() url.Values {
			return f.authed(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cbURL}, "code_verifier": {verifier}})
		}
		if st, body, _ := f.post("/oauth/token", tokenForm(), nil); st != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
			t.Errorf("token request without a DPoP proof: got %d %v, want 400 invalid_dpop_proof", st, body)
		}
		f.nonce = ""
		if st, body, h := f.post("/oauth/token", tokenForm(), map[string]string{"DPoP": f.proof(f.dpop, "POST", e.URL+"/oauth/token", "", nil)}); st != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || h.Get("DPoP-Nonce") == "" {
			t.Errorf("token request without a nonce: got %d %v nonce %q, want 400 use_dpop_nonce with a DPoP-Nonce", st, body, h.Get("DPoP-Nonce"))
		}
		st, tok, _ := f.post("/oauth/token", tokenForm(), map[string]string{"DPoP": f.proof(f.dpop, "POST", e.URL+"/oauth/token", "", nil)})
		if st != http.StatusOK || tok["token_type"] != "DPoP" || tok["id_token"] == nil || tok["refresh_token"] == nil {
			t.Fatalf("token request with a proof and the nonce: got %d %v, want 200 DPoP tokens", st, tok)
		}
		at := tok["access_token"].(string)
		jkt := thumbprint(t, f.dpop)
		// RFC 9068, verified with the published keys by go-jose.
		claims := verifiedAccessToken(t, e, at)
		if claims["client_id"] != f.id || claims["scope"] != "openid profile offline_access" || claims["acr"] == nil ||
			claims["auth_time"] == nil || claims["jti"] == nil || claims["iss"] != e.URL {
			t.Errorf("access token claims: %v", claims)
		}
		if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != jkt {
			t.Errorf("access token cnf: got %v, want jkt %s", claims["cnf"], jkt)
		}
		if h, _ := jwtClaims(t, at); h["typ"] != "at+jwt" {
			t.Errorf("access token typ: got %v, want at+jwt", h["typ"])
		}

		// Userinfo: the bound token only with a fresh proof of its key.
		if st, _, h := f.userinfo("Bearer", at, ""); st != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
			t.Errorf("bound token as Bearer: got %d %q, want 401 DPoP invalid_token", st, h.Get("WWW-Authenticate"))
		}
		good := f.proof(f.dpop, "GET", e.URL+"/userinfo", at, nil)
		if st, info, _ := f.userinfo("DPoP", at, good); st != http.StatusOK || info["name"] == nil {
			t.Errorf("userinfo with a proof: got %d %v, want 200 with the name", st, info)
		}
		refusals := map[string]string{
			"replayed proof":       good,
			"proof of another key": f.proof(newKey(t), "GET", e.URL+"/userinfo", at, nil),
			"wrong htm":            f.proof(f.dpop, "POST", e.URL+"/userinfo", at, nil),
			"wrong htu":            f.proof(f.dpop, "GET", e.URL+"/oauth/token", at, nil),
			"no ath":               f.proof(f.dpop, "GET", e.URL+"/userinfo", "", nil),
			"old iat":              f.proof(f.dpop, "GET", e.URL+"/userinfo", at, func(c map[string]any) { c["iat"] = time.Now().Add(-5 * time.Minute).Unix() }),
			"no proof":             "",
		}
		for name, proof := range refusals {
			if st, _, h := f.userinfo("DPoP", at, proof); st != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "DPoP ") {
				t.Errorf("userinfo, %s: got %d %q, want 401 with a DPoP challenge", name, st, h.Get("WWW-Authenticate"))
			}
		}

		// Introspection tells a portal's API the binding and the level.
		st, in, _ := f.post("/oauth/introspect", f.authed(url.Values{"token": {at}}), nil)
		if cnf, _ := in["cnf"].(map[string]any); st != http.StatusOK || in["active"] != true || in["token_type"] != "DPoP" || cnf["jkt"] != jkt ||
			in["acr"] != claims["acr"] || in["auth_time"] == nil {
			t.Errorf("introspection: got %d %v", st, in)
		}
		if st, in, h := f.post("/oauth/introspect", url.Values{"token": {at}, "client_id": {f.id}, "client_secret": {"x"}}, nil); st != http.StatusUnauthorized || in["error"] != "invalid_client" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("introspection with a wrong client authentication: got %d %v %q, want a 401 JSON invalid_client", st, in, h.Get("Content-Type"))
		}

		// Refresh: rotated, bound again, and a reuse refused.
		refresh := func(rt string) (int, map[string]any) {
			st, body, _ := f.post("/oauth/token", f.authed(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}),
				map[string]string{"DPoP": f.proof(f.dpop, "POST", e.URL+"/oauth/token", "", nil)})
			return st, body
		}
		rt := tok["refresh_token"].(string)
		if st, body := refresh(rt); st != http.StatusOK || body["token_type"] != "DPoP" || body["refresh_token"] == rt {
			t.Errorf("refresh: got %d %v, want new DPoP tokens", st, body)
		}
		if st, body := refresh(rt); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh token reused: got %d %v, want invalid_grant", st, body)
		}
	})
}

// basic is an HTTP Basic credential.
func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// verifiedAccessToken verifies a JWT access token with the server's
// published keys, with go-jose, and returns its claims.
func verifiedAccessToken(t *testing.T, e *env, at string) map[string]any {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, e.URL+"/keys", &set)
	tok, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Key(tok.Headers[0].KeyID) {
		var claims map[string]any
		if tok.Claims(k.Key, &claims) == nil {
			return claims
		}
	}
	t.Fatalf("the access token does not verify with the published keys")
	return nil
}

// private_key_jwt (RFC 7523): every malformed assertion is invalid_client
// with 401; a good one authenticates (the bogus refresh token is then
// invalid_grant); a jti works once.
func TestPrivateKeyJWT(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		f := newFAPIClient(t, e, "land", nil)
		foreign := newKey(t)
		try := func(assertion string) (int, map[string]any) {
			st, body, _ := f.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}, nil)
			return st, body
		}
		now := time.Now()
		bad := map[string]string{
			"foreign key":     sign(t, foreign, f.kid, "JWT", jwt.Claims{Issuer: f.id, Subject: f.id, Audience: jwt.Audience{e.URL}, ID: randomID(), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}),
			"expired":         f.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-2 * time.Minute)) }),
			"wrong aud":       f.assertion(func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://other.example"} }),
			"exp an hour out": f.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(time.Hour)) }),
			"sub not iss":     f.assertion(func(c *jwt.Claims) { c.Subject = "someone-else" }),
			"no jti":          f.assertion(func(c *jwt.Claims) { c.ID = "" }),
			"garbage":         "a.b.c",
		}
		for name, a := range bad {
			if st, body := try(a); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("%s: got %d %v, want 401 invalid_client", name, st, body)
			}
		}
		// The token endpoint URL as aud works too.
		once := f.assertion(func(c *jwt.Claims) { c.Audience = jwt.Audience{e.URL + "/oauth/token"} })
		if st, body := try(once); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("good assertion: got %d %v, want the client authenticated (invalid_grant for the bogus token)", st, body)
		}
		if st, body := try(once); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("replayed assertion: got %d %v, want 401 invalid_client", st, body)
		}
		// A private_key_jwt client has no secret to send.
		if st, body, _ := f.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}, "client_id": {f.id}, "client_secret": {"guess-guess-guess-guess-guess-guess"}}, nil); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("client secret for a private_key_jwt client: got %d %v, want 401 invalid_client", st, body)
		}
	})
}

// A public client's tokens and refresh token are bound to its DPoP key:
// the refresh token is refused without a proof, or with a proof of
// another key.
func TestDPoPBindsPublicRefreshTokens(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	e.addClient(t, clientsPublic("app"))
	f := &fapiClient{t: t, e: e, id: "app", dpop: newKey(t)}
	verifier, params := pkce()
	for k, v := range map[string]string{"client_id": "app", "redirect_uri": cbURL, "response_type": "code", "scope": "openid offline_access"} {
		params.Set(k, v)
	}
	b := stoppingBrowser(t)
	pg := b.get(e.URL + "/authorize?" + params.Encode())
	q := portalRedirect(t, b.login(e.URL, pg, testNumber, testPassword))
	proof := func(key *ecdsa.PrivateKey) map[string]string {
		return map[string]string{"DPoP": f.proof(key, "POST", e.URL+"/oauth/token", "", nil)}
	}
	st, tok, _ := f.post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"app"}, "code": {q.Get("code")},
		"redirect_uri": {cbURL}, "code_verifier": {verifier}}, proof(f.dpop))
	if st != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("code exchange with a proof: got %d %v", st, tok)
	}
	rt := tok["refresh_token"].(string)
	refresh := func(h map[string]string) (int, map[string]any) {
		st, body, _ := f.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"app"}, "refresh_token": {rt}}, h)
		return st, body
	}
	if st, body := refresh(nil); st != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("bound refresh token without a proof: got %d %v, want invalid_dpop_proof", st, body)
	}
	if st, body := refresh(proof(newKey(t))); st != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("bound refresh token with another key: got %d %v, want invalid_dpop_proof", st, body)
	}
	if st, body := refresh(proof(f.dpop)); st != http.StatusOK || body["token_type"] != "DPoP" {
		t.Errorf("bound refresh token with its key: got %d %v, want new DPoP tokens", st, body)
	}
}
