package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	jarIssuer = "https://id.example"
	jarClient = "portal"
)

func requestObjectFor(t testing.TB, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	return signedJWT(t, jose.ES256, jose.JSONWebKey{Key: key, KeyID: kid}, nil, claims)
}

func TestParseRequestObject(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256"}}
	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": jarClient, "aud": jarIssuer, "client_id": jarClient, "scope": "openid", "max_age": 300,
			"claims": map[string]any{"id_token": map[string]any{"birthdate": nil}}, "exp": now.Add(time.Minute).Unix()}
	}
	with := func(k string, v any) map[string]any { m := base(); m[k] = v; return m }
	got, err := parseRequestObject(requestObjectFor(t, key, "k1", base()), keys, jarClient, jarIssuer, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("scope") != "openid" || got.Get("max_age") != "300" || got.Get("claims") != `{"id_token":{"birthdate":null}}` || got.Has("iss") || got.Has("exp") {
		t.Errorf("parameters: %v", got)
	}
	for name, raw := range map[string]string{
		"foreign key":     requestObjectFor(t, other, "k1", base()),
		"unknown kid":     requestObjectFor(t, key, "k2", base()),
		"alg none":        base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"client_id":"portal"}`)) + ".",
		"encrypted":       "a.b.c.d.e",
		"another client":  requestObjectFor(t, key, "k1", with("client_id", "other")),
		"iss not client":  requestObjectFor(t, key, "k1", with("iss", "other")),
		"wrong aud":       requestObjectFor(t, key, "k1", with("aud", "https://elsewhere")),
		"expired":         requestObjectFor(t, key, "k1", with("exp", now.Add(-time.Hour).Unix())),
		"nested request":  requestObjectFor(t, key, "k1", with("request", "x")),
		"nested uri":      requestObjectFor(t, key, "k1", with("request_uri", "https://attacker/x")),
		"array parameter": requestObjectFor(t, key, "k1", with("scope", []string{"openid"})),
		"too long":        strings.Repeat("a", maxRequestObject+1),
	} {
		if _, err := parseRequestObject(raw, keys, jarClient, jarIssuer, now); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !containsType(err, "invalid_request_object") {
			t.Errorf("%s: got %v, want invalid_request_object", name, err)
		}
	}
}

// FuzzParseRequestObject: request objects come straight from the
// internet; parsing never panics and never accepts what the client's key
// did not sign.
func FuzzParseRequestObject(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}
	now := time.Unix(1_800_000_000, 0)
	good := requestObjectFor(f, key, "k1", map[string]any{"client_id": jarClient, "scope": "openid"})
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJwb3J0YWwifQ.")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := parseRequestObject(raw, keys, jarClient, jarIssuer, now)
		if err == nil && raw != good && v.Get("client_id") != jarClient {
			t.Fatalf("accepted %q without the client id", raw)
		}
	})
}
