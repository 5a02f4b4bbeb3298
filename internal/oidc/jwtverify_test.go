package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/keys"
)

const testIssuer = "https://id.example.vn"

// jwtKeys is one key per algorithm, published under a kid of its own,
// and the signers that go with them.
type jwtKeys struct {
	published []keys.PublicKey
	signers   map[string]crypto.Signer // by kid
}

func newJWTKeys(t testing.TB) *jwtKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	k := &jwtKeys{signers: map[string]crypto.Signer{"rs": rk, "ps": rk, "es": ek, "ed": edk}}
	for kid, alg := range map[string]string{"rs": "RS256", "ps": "PS256", "es": "ES256", "ed": "EdDSA"} {
		k.published = append(k.published, keys.PublicKey{ID: kid, Algorithm: alg, State: "active", Key: k.signers[kid].Public()})
	}
	return k
}

// sign makes a compact JWS the way signAccessToken does (go-jose), with
// extra protected headers.
func (k *jwtKeys) sign(t testing.TB, alg, kid string, headers map[jose.HeaderKey]any, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	for h, v := range headers {
		opts = opts.WithHeader(h, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: k.signers[kid], KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// raw builds a token from a header and claims of our choosing, signed by
// sig over its signing input.
func raw(header, claims any, sig func(input string) []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig(input))
}

// libraryAccepts is the check verifyJWTAccessToken replaced: the
// library's access-token verifier over the same keys and algorithms.
func libraryAccepts(token string, k *jwtKeys, algs []string) bool {
	set := jose.JSONWebKeySet{}
	for _, p := range k.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.Key, KeyID: p.ID, Algorithm: p.Algorithm, Use: "sig"})
	}
	v := op.NewAccessTokenVerifier(testIssuer, staticKeySet(set), op.WithSupportedAccessTokenSigningAlgorithms(algs...))
	_, err := op.VerifyAccessToken[*zoidc.AccessTokenClaims](context.Background(), token, v)
	return err == nil
}

type staticKeySet jose.JSONWebKeySet

func (s staticKeySet) VerifySignature(_ context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, errors.New("one signature")
	}
	set := jose.JSONWebKeySet(s)
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 || keys[0].Algorithm != jws.Signatures[0].Header.Algorithm {
		return nil, errors.New("no such key")
	}
	return jws.Verify(keys[0])
}

func TestVerifyJWTAccessToken(t *testing.T) {
	k := newJWTKeys(t)
	now := time.Now()
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	claims := map[string]any{"iss": testIssuer, "sub": "s1", "exp": now.Add(time.Minute).Unix(), "jti": "j1", "aud": []string{"c"}}
	with := func(key string, v any) map[string]any {
		c := map[string]any{}
		for k, x := range claims {
			c[k] = x
		}
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
		return c
	}
	es := k.signers["es"].(*ecdsa.PrivateKey)
	esRaw := func(input string) []byte {
		sum := sha256.Sum256([]byte(input))
		r, s, _ := ecdsa.Sign(rand.Reader, es, sum[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
	esASN1 := func(input string) []byte {
		sum := sha256.Sum256([]byte(input))
		sig, _ := ecdsa.SignASN1(rand.Reader, es, sum[:])
		return sig
	}
	valid := k.sign(t, "ES256", "es", nil, claims)
	parts := strings.Split(valid, ".")
	// The same signature spelt with non-zero trailing bits.
	last := parts[2][len(parts[2])-1]
	bits := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + string(rune(last+1))
	// RSA's public key as an HMAC secret (the classic alg confusion).
	rsaDER, _ := asn1.Marshal(*k.signers["rs"].Public().(*rsa.PublicKey))
	hs := raw(map[string]string{"alg": "HS256", "kid": "rs", "typ": "at+jwt"}, claims, func(in string) []byte {
		m := hmac.New(sha256.New, rsaDER)
		m.Write([]byte(in))
		return m.Sum(nil)
	})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	notOurs := raw(map[string]string{"alg": "ES256", "kid": "es", "typ": "at+jwt"}, claims, func(in string) []byte {
		sum := sha256.Sum256([]byte(in))
		r, s, _ := ecdsa.Sign(rand.Reader, other, sum[:])
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	})

	for _, tc := range []struct {
		name   string
		token  string
		algs   []string
		accept bool
	}{
		{"RS256", k.sign(t, "RS256", "rs", nil, claims), algs, true},
		{"PS256", k.sign(t, "PS256", "ps", nil, claims), algs, true},
		{"ES256", valid, algs, true},
		{"EdDSA", k.sign(t, "EdDSA", "ed", nil, claims), algs, true},
		{"typ application/at+jwt", raw(map[string]string{"alg": "ES256", "kid": "es", "typ": "application/at+jwt"}, claims, esRaw), algs, true},
		{"an algorithm no longer configured", k.sign(t, "RS256", "rs", nil, claims), []string{"ES256"}, false},
		{"another key's kid", k.sign(t, "ES256", "es", map[jose.HeaderKey]any{"kid": "ed"}, claims), algs, false},
		{"an unknown kid", raw(map[string]string{"alg": "ES256", "kid": "nope", "typ": "at+jwt"}, claims, esRaw), algs, false},
		{"no kid", raw(map[string]string{"alg": "ES256", "typ": "at+jwt"}, claims, esRaw), algs, false},
		{"signed by a key that is not ours", notOurs, algs, false},
		{"alg none", raw(map[string]string{"alg": "none", "kid": "es", "typ": "at+jwt"}, claims, func(string) []byte { return nil }), algs, false},
		{"HS256 keyed with the RSA public key", hs, append(algs, "HS256"), false},
		{"RS256 header on the PS256 key", raw(map[string]string{"alg": "RS256", "kid": "ps", "typ": "at+jwt"}, claims, func(in string) []byte {
			sum := sha256.Sum256([]byte(in))
			s, _ := rsa.SignPKCS1v15(nil, k.signers["ps"].(*rsa.PrivateKey), crypto.SHA256, sum[:])
			return s
		}), algs, false},
		{"an ID token (typ JWT)", raw(map[string]string{"alg": "ES256", "kid": "es", "typ": "JWT"}, claims, esRaw), algs, false},
		{"no typ", raw(map[string]string{"alg": "ES256", "kid": "es"}, claims, esRaw), algs, false},
		{"crit", raw(map[string]any{"alg": "ES256", "kid": "es", "typ": "at+jwt", "crit": []string{"exp"}}, claims, esRaw), algs, false},
		{"b64 false", raw(map[string]any{"alg": "ES256", "kid": "es", "typ": "at+jwt", "b64": false}, claims, esRaw), algs, false},
		{"ES256 signature in ASN.1", raw(map[string]string{"alg": "ES256", "kid": "es", "typ": "at+jwt"}, claims, esASN1), algs, false},
		{"expired", k.sign(t, "ES256", "es", nil, with("exp", now.Add(-time.Second).Unix())), algs, false},
		{"expiring now", k.sign(t, "ES256", "es", nil, with("exp", now.Unix())), algs, false},
		{"no exp", k.sign(t, "ES256", "es", nil, with("exp", nil)), algs, false},
		{"another issuer", k.sign(t, "ES256", "es", nil, with("iss", "https://evil.example")), algs, false},
		{"no jti", k.sign(t, "ES256", "es", nil, with("jti", nil)), algs, false},
		{"claims not an object", raw(map[string]string{"alg": "ES256", "kid": "es", "typ": "at+jwt"}, []string{"x"}, esRaw), algs, false},
		{"signature spelt twice", bits, algs, false},
		{"four parts", valid + ".x", algs, false},
		{"five parts (JWE)", "a.b.c.d.e", algs, false},
		{"two parts", parts[0] + "." + parts[1], algs, false},
		{"an empty signature", parts[0] + "." + parts[1] + ".", algs, false},
		{"padding", parts[0] + "." + parts[1] + "." + parts[2] + "==", algs, false},
		{"a changed payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","sub":"admin","exp":9999999999,"jti":"j1"}`)) + "." + parts[2], algs, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifyJWTAccessToken(tc.token, k.published, tc.algs, testIssuer, now)
			if tc.accept {
				if err != nil || c.Subject != "s1" || c.JWTID != "j1" {
					t.Fatalf("got %+v, %v; want accepted", c, err)
				}
			} else if err == nil {
				t.Fatalf("accepted %q", tc.token)
			}
			// What it replaced never accepted less.
			if err == nil && !libraryAccepts(tc.token, k, tc.algs) {
				t.Errorf("accepted what the library's verifier refuses: %q", tc.token)
			}
		})
	}
}

// FuzzVerifyJWTAccessToken: whatever arrives as a bearer token, nothing
// panics, and nothing is accepted that the library's verifier refuses.
func FuzzVerifyJWTAccessToken(f *testing.F) {
	k := newJWTKeys(f)
	claims := map[string]any{"iss": testIssuer, "sub": "s", "exp": time.Now().Add(time.Hour).Unix(), "jti": "j"}
	for _, kid := range []string{"rs", "ps", "es", "ed"} {
		alg := map[string]string{"rs": "RS256", "ps": "PS256", "es": "ES256", "ed": "EdDSA"}[kid]
		f.Add(k.sign(f, alg, kid, nil, claims))
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJ9.eyJ9.", "e30.e30.e30", strings.Repeat(".", 9), "\x00.\xff.\n"} {
		f.Add(s)
	}
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := verifyJWTAccessToken(token, k.published, algs, testIssuer, time.Now())
		if err != nil {
			return
		}
		if c.JWTID == "" || c.Issuer != testIssuer {
			t.Fatalf("accepted %q with claims %+v", token, c)
		}
		if !libraryAccepts(token, k, algs) {
			t.Fatalf("accepted what the library's verifier refuses: %q", token)
		}
	})
}
