package app_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/store"
)

// fapiClient is a portal that authenticates with private_key_jwt and
// binds its tokens with DPoP, built by hand with go-jose (an independent
// JOSE library) and net/http, as RFC 7523, 9126, 9101 and 9449 say.
type fapiClient struct {
	t     *testing.T
	e     *env
	id    string
	key   *ecdsa.PrivateKey // the client's key, registered in its JWKS
	kid   string
	dpop  *ecdsa.PrivateKey // the DPoP key
	nonce string            // the last DPoP-Nonce the server sent
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFAPIClient registers a private_key_jwt client with an ES256 key in
// its JWKS; tweak sets the rest (RequirePAR, Profile...).
func newFAPIClient(t *testing.T, e *env, id string, tweak func(*store.Client)) *fapiClient {
	t.Helper()
	f := &fapiClient{t: t, e: e, id: id, key: newKey(t), kid: "k-" + id, dpop: newKey(t)}
	e.addClient(t, oidcSpec(id, cbURL))
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: f.key.Public(), KeyID: f.kid, Algorithm: "ES256", Use: "sig"}}})
	err := e.Store.UpdateClient(context.Background(), id, func(c *store.Client) error {
		c.TokenEndpointAuthMethod, c.SecretHash, c.JWKS = "private_key_jwt", "", string(set)
		if tweak != nil {
			tweak(c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign signs claims with key (kid) and the typ header.
func sign(t *testing.T, key any, kid, typ string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertion is a client assertion; mod changes its claims.
func (f *fapiClient) assertion(mod func(*jwt.Claims)) string {
	now := time.Now()
	c := jwt.Claims{Issuer: f.id, Subject: f.id, Audience: jwt.Audience{f.e.URL}, ID: randomID(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	if mod != nil {
		mod(&c)
	}
	return sign(f.t, f.key, f.kid, "JWT", c)
}

// authed adds a fresh client assertion to form.
func (f *fapiClient) authed(form url.Values) url.Values {
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", f.assertion(nil))
	return form
}

// proof is a DPoP proof of key for method and htu (with ath when token
// is set, and the last nonce); mod changes its claims.
func (f *fapiClient) proof(key *ecdsa.PrivateKey, method, htu, token string, mod func(map[string]any)) string {
	f.t.Helper()
	claims := map[string]any{"jti": randomID(), "htm": method, "htu": htu, "iat": time.Now().Unix()}
	if token != "" {
		h := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if f.nonce != "" {
		claims["nonce"] = f.nonce
	}
	if mod != nil {
		mod(claims)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// thumbprint is the RFC 7638 thumbprint of key's public part.
func thumbprint(t *testing.T, key *ecdsa.PrivateKey) string {
	tp, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// post sends form to path with headers and decodes the JSON answer; it
// remembers a DPoP-Nonce.
func (f *fapiClient) post(path string, form url.Values, header map[string]string) (int, map[string]any, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return f.do(req)
}

func (f *fapiClient) do(req *http.Request) (int, map[string]any, http.Header) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		f.nonce = n
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// userinfo calls userinfo with scheme and token, and a proof when given.
func (f *fapiClient) userinfo(scheme, token, proof string) (int, map[string]any, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.e.URL+"/userinfo", nil)
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return f.do(req)
}

// pkce is a code verifier and the authorization parameters it needs.
func pkce() (string, url.Values) {
	v := oauth2.GenerateVerifier()
	return v, url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"}}
}

// jwtClaims decodes a JWT's header and claims without verifying them.
func jwtClaims(t *testing.T, raw string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %.40q", raw)
	}
	var h, c map[string]any
	for i, v := range []*map[string]any{&h, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("part %d of the JWT cannot be read", i)
		}
	}
	return h, c
}
