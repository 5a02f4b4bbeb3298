package app_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
)

// discovery is the part of the OpenID Provider metadata this test uses.
type discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	ScopesSupported       []string `json:"scopes_supported"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestOAuth2ClientWithManualIDTokenChecks uses golang.org/x/oauth2 and
// checks the ID token by hand against the JWKS, as a minimal portal would.
func TestOAuth2ClientWithManualIDTokenChecks(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		const redirect = "http://127.0.0.1:9/callback" // never contacted: the browser stops here
		secret := e.addClient(t, clients.Spec{ID: "x-portal", Name: "X", RedirectURIs: []string{redirect}})

		var d discovery
		getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
		if d.Issuer != e.URL {
			t.Fatalf("issuer: got %q, want %q", d.Issuer, e.URL)
		}
		if len(d.CodeChallengeMethods) != 1 || d.CodeChallengeMethods[0] != "S256" {
			t.Errorf("code_challenge_methods_supported: got %v, want [S256]", d.CodeChallengeMethods)
		}
		conf := &oauth2.Config{
			ClientID: "x-portal", ClientSecret: secret, RedirectURL: redirect,
			Endpoint: oauth2.Endpoint{AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint},
			Scopes:   []string{"openid", "profile"},
		}
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("st-9", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-9"))

		b := newBrowser(t)
		b.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), redirect) }
		pg := b.get(authURL)
		pg = b.login(e.URL, pg, testNumber, testPassword)
		if pg.status != http.StatusFound && pg.status != http.StatusSeeOther {
			t.Fatalf("after login: got %d, want a redirect to the portal", pg.status)
		}
		back, _ := url.Parse(pg.header.Get("Location"))
		if back.Query().Get("state") != "st-9" || back.Query().Get("code") == "" {
			t.Fatalf("redirect: got %s, want code and state", back)
		}
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		claims := verifyIDToken(t, e.URL, d.JWKSURI, raw, "x-portal")
		if claims["nonce"] != "n-9" {
			t.Errorf("nonce: got %v, want n-9", claims["nonce"])
		}
		for _, k := range []string{"sub", "auth_time", "acr", "amr", "sid"} {
			if _, ok := claims[k]; !ok {
				t.Errorf("ID token lacks %s", k)
			}
		}
		// at_hash binds the access token.
		h := sha256.Sum256([]byte(tok.AccessToken))
		if claims["at_hash"] != base64.RawURLEncoding.EncodeToString(h[:16]) {
			t.Error("at_hash does not match the access token")
		}
		// Replaying the code fails, and revokes what the first exchange issued.
		if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("replayed code accepted")
		}
		req, _ := http.NewRequest("GET", d.UserinfoEndpoint, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo after code replay: got %d, want 401 (token revoked)", resp.StatusCode)
		}
	})
}

// verifyIDToken checks signature (against the JWKS), iss, aud, exp, iat.
func verifyIDToken(t *testing.T, issuer, jwksURI, raw, clientID string) map[string]any {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, jwksURI, &set)
	tok, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse ID token: %v", err)
	}
	kid := tok.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q: got %d keys in JWKS, want 1", kid, len(keys))
	}
	if _, ok := keys[0].Key.(*rsa.PublicKey); !ok {
		t.Fatalf("JWKS key is %T, want RSA", keys[0].Key)
	}
	payload, err := tok.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("ID token signature: %v", err)
	}
	var c map[string]any
	json.Unmarshal(payload, &c)
	now := float64(time.Now().Unix())
	switch {
	case c["iss"] != issuer:
		t.Errorf("iss: got %v, want %s", c["iss"], issuer)
	case !audContains(c["aud"], clientID):
		t.Errorf("aud: got %v, want %s", c["aud"], clientID)
	case c["exp"].(float64) <= now:
		t.Error("exp is in the past")
	case c["iat"].(float64) > now+5:
		t.Error("iat is in the future")
	}
	return c
}

func audContains(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		for _, v := range a {
			if v == id {
				return true
			}
		}
	}
	return false
}
