package app_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

// The discovery walk: every endpoint, response type and mode, grant type,
// client authentication method, subject type and algorithm the document
// advertises is exercised here, and works.
func TestDiscoveryWalk(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	var d map[string]any
	getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
	list := func(k string) []string {
		var out []string
		for _, x := range d[k].([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	exercised := map[string]map[string]bool{}
	done := func(k, v string) {
		if exercised[k] == nil {
			exercised[k] = map[string]bool{}
		}
		exercised[k][v] = true
	}

	// Every endpoint answers (a refusal of an empty request is an answer;
	// 404 and 405 are not).
	for k, v := range d {
		if !strings.HasSuffix(k, "_endpoint") && k != "jwks_uri" {
			continue
		}
		u := v.(string)
		if !strings.HasPrefix(u, e.URL+"/") {
			t.Errorf("%s: %s is not under the issuer", k, u)
			continue
		}
		method := http.MethodPost
		if k == "authorization_endpoint" || k == "jwks_uri" || k == "end_session_endpoint" || k == "userinfo_endpoint" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, u, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: got %d", k, u, resp.StatusCode)
		}
	}

	// Response type code, both response modes, S256, both subject types,
	// the code, refresh and basic/post client authentication.
	secret := e.addClient(t, oidcSpec("portal", cbURL))
	pub := e.addClient(t, oidcSpec("public-sub", cbURL))
	e.Store.UpdateClient(context.Background(), "public-sub", func(c *store.Client) error { c.SubjectType = "public"; return nil })
	b := newBrowser(t)
	b.stop = stoppingBrowser(t).stop
	for _, mode := range list("response_modes_supported") {
		conf := portalConf(e, "portal", secret, "offline_access")
		verifier := oauth2.GenerateVerifier()
		pg := b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", mode)))
		if isLoginForm(pg) {
			pg = b.login(e.URL, pg, testNumber, testPassword)
		}
		loc, _ := url.Parse(pg.header.Get("Location"))
		values := loc.Query()
		if mode == "fragment" {
			values, _ = url.ParseQuery(loc.Fragment)
		}
		tok, err := conf.Exchange(context.Background(), values.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("response_mode %s: %v (%s)", mode, err, loc)
		}
		done("response_modes_supported", mode)
		done("response_types_supported", "code")
		done("code_challenge_methods_supported", "S256")
		done("grant_types_supported", "authorization_code")
		done("token_endpoint_auth_methods_supported", "client_secret_basic")
		h, _ := jwtClaims(t, tok.Extra("id_token").(string))
		done("id_token_signing_alg_values_supported", h["alg"].(string))
		if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Errorf("refresh: %v", err)
		}
		done("grant_types_supported", "refresh_token")
	}
	for _, id := range []string{"portal", "public-sub"} {
		sec := map[string]string{"portal": secret, "public-sub": pub}[id]
		conf := portalConf(e, id, sec)
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		tok := loginFor(t, e, conf, b)
		_, c := jwtClaims(t, tok.Extra("id_token").(string))
		citizen, _ := e.Store.CitizenByNumber(context.Background(), testNumber)
		if (c["sub"] == citizen.ID) != (id == "public-sub") {
			t.Errorf("%s: sub %v", id, c["sub"])
		}
		done("subject_types_supported", map[string]string{"portal": "pairwise", "public-sub": "public"}[id])
	}
	if err := e.Store.UpdateClient(context.Background(), "portal", func(c *store.Client) error { c.TokenEndpointAuthMethod = "client_secret_post"; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}, "client_id": {"portal"}, "client_secret": {secret}}, [2]string{}); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("client_secret_post: got %d %v", st, body)
	}
	done("token_endpoint_auth_methods_supported", "client_secret_post")
	// none: a public client with PKCE.
	e.addClient(t, clientsPublic("app"))
	appConf := portalConf(e, "app", "")
	appConf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	loginFor(t, e, appConf, b)
	done("token_endpoint_auth_methods_supported", "none")
	// client_credentials.
	botSecret := e.addClient(t, oidcSpec("bot", cbURL))
	e.Store.UpdateClient(context.Background(), "bot", func(c *store.Client) error { c.AdminScopes = []string{"admin:audit.read"}; return nil })
	if st, body, _ := tokenPost(t, e.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, [2]string{"bot", botSecret}); st != http.StatusOK || body["access_token"] == nil {
		t.Errorf("client_credentials: got %d %v", st, body)
	}
	done("grant_types_supported", "client_credentials")

	// private_key_jwt, request objects and DPoP with every algorithm.
	f := newFAPIClient(t, e, "keys", nil)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keyFor := map[jose.SignatureAlgorithm]any{jose.ES256: f.key, jose.RS256: rsaKey, jose.PS256: rsaKey, jose.EdDSA: edKey}
	pubOf := map[jose.SignatureAlgorithm]any{jose.ES256: f.key.Public(), jose.RS256: rsaKey.Public(), jose.PS256: rsaKey.Public(), jose.EdDSA: edKey.Public()}
	var set jose.JSONWebKeySet
	for alg, k := range pubOf {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: "kid-" + string(alg), Algorithm: string(alg), Use: "sig"})
	}
	raw, _ := json.Marshal(set)
	e.Store.UpdateClient(context.Background(), f.id, func(c *store.Client) error { c.JWKS = string(raw); return nil })
	f.kid = "kid-ES256"

	signWith := func(alg jose.SignatureAlgorithm, typ string, claims any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: keyFor[alg], KeyID: "kid-" + string(alg)}}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := jwt.Signed(s).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, k := range []string{"token_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported"} {
		path := map[string]string{"token_endpoint_auth_signing_alg_values_supported": "/oauth/token", "introspection_endpoint_auth_signing_alg_values_supported": "/oauth/introspect",
			"revocation_endpoint_auth_signing_alg_values_supported": "/revoke"}[k]
		for _, alg := range list(k) {
			a := signWith(jose.SignatureAlgorithm(alg), "JWT", jwt.Claims{Issuer: f.id, Subject: f.id, Audience: jwt.Audience{e.URL}, ID: randomID(), Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))})
			form := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a},
				"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}, "token": {"bogus"}}
			st, body, _ := f.post(path, form, nil)
			if st == http.StatusUnauthorized || (path == "/oauth/token" && body["error"] != "invalid_grant") {
				t.Errorf("%s %s: got %d %v, want the client authenticated", k, alg, st, body)
			}
			done(k, alg)
			done("token_endpoint_auth_methods_supported", "private_key_jwt")
		}
	}
	for _, alg := range list("request_object_signing_alg_values_supported") {
		obj := signWith(jose.SignatureAlgorithm(alg), "oauth-authz-req+jwt", map[string]any{"client_id": f.id, "response_type": "code", "redirect_uri": cbURL,
			"scope": "openid", "code_challenge": oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()), "code_challenge_method": "S256"})
		pg := stoppingBrowser(t).get(e.URL + "/authorize?" + url.Values{"client_id": {f.id}, "redirect_uri": {cbURL}, "request": {obj}}.Encode())
		if !isLoginForm(pg) {
			t.Errorf("request object %s: got %d %q", alg, pg.status, pg.header.Get("Location"))
		}
		done("request_object_signing_alg_values_supported", alg)
	}
	if st, body, _ := f.post("/par", f.authed(url.Values{"redirect_uri": {cbURL}, "response_type": {"code"}, "scope": {"openid"}}), nil); st != http.StatusCreated {
		t.Errorf("PAR: got %d %v", st, body)
	}
	// Introspection and revocation take each method they list.
	basicSecret := e.addClient(t, oidcSpec("basic-c", cbURL))
	for _, k := range []string{"introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		path := map[string]string{"introspection_endpoint_auth_methods_supported": "/oauth/introspect", "revocation_endpoint_auth_methods_supported": "/revoke"}[k]
		for _, m := range list(k) {
			form, basic := url.Values{"token": {"bogus"}}, [2]string{}
			switch m {
			case "client_secret_basic":
				basic = [2]string{"basic-c", basicSecret}
			case "client_secret_post":
				form.Set("client_id", "portal")
				form.Set("client_secret", secret)
			case "private_key_jwt":
				form = f.authed(form)
			case "none":
				form.Set("client_id", "app")
			}
			if st, body, _ := tokenPost(t, e.URL+path, form, basic); st != http.StatusOK {
				t.Errorf("%s %s: got %d %v, want 200", path, m, st, body)
			}
			done(k, m)
		}
	}
	dpopKey := map[string]any{"ES256": f.dpop, "EdDSA": edKey, "PS256": rsaKey}
	for _, alg := range list("dpop_signing_alg_values_supported") {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: dpopKey[alg]}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := jwt.Signed(s).Claims(map[string]any{"jti": randomID(), "htm": "POST", "htu": e.URL + "/oauth/token", "iat": time.Now().Unix()}).Serialize()
		// A bogus code is refused only after the proof passed.
		st, body, _ := f.post("/oauth/token", f.authed(url.Values{"grant_type": {"authorization_code"}, "code": {"bogus"}, "redirect_uri": {cbURL}}), map[string]string{"DPoP": proof})
		if body["error"] == "invalid_dpop_proof" || st == http.StatusOK {
			t.Errorf("DPoP %s: got %d %v, want the proof accepted", alg, st, body)
		}
		done("dpop_signing_alg_values_supported", alg)
	}

	// Everything advertised was exercised.
	for k, v := range d {
		vals, ok := v.([]any)
		if !ok || k == "scopes_supported" || k == "claims_supported" || k == "acr_values_supported" || k == "ui_locales_supported" {
			continue
		}
		for _, x := range vals {
			if !exercised[k][x.(string)] {
				t.Errorf("%s lists %v, which this walk did not exercise", k, x)
			}
		}
	}
	for _, k := range []string{"device_authorization_endpoint", "registration_endpoint", "check_session_iframe"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s is listed", k)
		}
	}
	if !slices.Equal(list("response_types_supported"), []string{"code"}) {
		t.Errorf("response_types_supported: %v", list("response_types_supported"))
	}
}

func clientsPublic(id string) clients.Spec {
	return clients.Spec{ID: id, Name: "App " + id, Public: true, RedirectURIs: []string{cbURL}}
}
