package clientkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Keys made once: RSA generation is slow.
var (
	rsaKey, _   = rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _  = rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _    = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384Key, _  = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ = ed25519.GenerateKey(rand.Reader)
)

func jwk(key any, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
}

// set marshals keys as a JSON Web Key Set.
func set(t testing.TB, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func single(t testing.TB, k jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		want    error  // a sentinel the error wraps
		message string // part of the error; "" with want nil means valid
	}{
		{"rsa", set(t, jwk(rsaKey.Public(), "r1", "RS256")), nil, ""},
		{"rsa for PS256", set(t, jwk(rsaKey.Public(), "r1", "PS256")), nil, ""},
		{"ec", set(t, jwk(ecKey.Public(), "e1", "ES256")), nil, ""},
		{"ed25519", set(t, jwk(edKey.Public(), "o1", "EdDSA")), nil, ""},
		{"no alg, no use", set(t, jose.JSONWebKey{Key: ecKey.Public(), KeyID: "e1"}), nil, ""},
		{"three kinds", set(t, jwk(rsaKey.Public(), "r1", ""), jwk(ecKey.Public(), "e1", ""), jwk(edKey.Public(), "o1", "")), nil, ""},
		{"private rsa", set(t, jwk(rsaKey, "r1", "RS256")), ErrPrivateKey, "private key"},
		{"private ec", set(t, jwk(ecKey, "e1", "ES256")), ErrPrivateKey, "private key"},
		{"private ed25519", set(t, jwk(edKey, "o1", "EdDSA")), ErrPrivateKey, "private key"},
		{"private among public", set(t, jwk(ecKey.Public(), "e1", ""), jwk(rsaKey, "r1", "")), ErrPrivateKey, "private key"},
		{"symmetric", []byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`), nil, "symmetric"},
		{"rsa 1024", set(t, jwk(rsa1024.Public(), "r1", "RS256")), nil, "2048 bits"},
		{"p-384", set(t, jwk(p384Key.Public(), "e1", "")), nil, "P-256"},
		{"alg not accepted", set(t, jwk(ecKey.Public(), "e1", "ES384")), nil, "not accepted"},
		{"HS256 alg", set(t, jwk(ecKey.Public(), "e1", "HS256")), nil, "not accepted"},
		{"encryption key", set(t, jose.JSONWebKey{Key: ecKey.Public(), KeyID: "e1", Use: "enc"}), nil, "only signing keys"},
		{"duplicate kid", set(t, jwk(ecKey.Public(), "k", ""), jwk(edKey.Public(), "k", "")), nil, `"k" is used twice`},
		{"no keys", []byte(`{"keys":[]}`), nil, "no keys"},
		{"garbage", []byte("-----BEGIN PUBLIC KEY-----"), nil, "not a JSON Web Key Set"},
		{"a single key, not a set", single(t, jwk(ecKey.Public(), "e1", "")), nil, "no keys"},
		{"unknown kty", []byte(`{"keys":[{"kty":"XYZ","kid":"x"}]}`), nil, "not a JSON Web Key Set"},
		{"too large", []byte(`{"keys":[],"x":"` + strings.Repeat("a", MaxSetBytes) + `"}`), nil, "larger than"},
	}
	many := make([]jose.JSONWebKey, MaxKeys+1)
	for i := range many {
		many[i] = jwk(edKey.Public(), string(rune('a'+i)), "")
	}
	tests = append(tests, struct {
		name    string
		raw     []byte
		want    error
		message string
	}{"too many keys", set(t, many...), nil, "more than"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.raw)
			if tt.want == nil && tt.message == "" {
				if err != nil {
					t.Fatalf("got %v, want a key set", err)
				}
				for _, k := range got.Keys {
					if !k.IsPublic() {
						t.Errorf("key %q: got a private key in the parsed set", k.KeyID)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("got a key set, want an error with %q", tt.message)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want it to wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got %q, want it to mention %q", err, tt.message)
			}
			if tt.name == "symmetric" && strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("got %q, want the secret not echoed", err)
			}
		})
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		key  jose.JSONWebKey
		alg  jose.SignatureAlgorithm
		want bool
	}{
		{jwk(rsaKey.Public(), "", ""), jose.RS256, true},
		{jwk(rsaKey.Public(), "", ""), jose.PS256, true},
		{jwk(rsaKey.Public(), "", "RS256"), jose.PS256, false},
		{jwk(rsaKey.Public(), "", ""), jose.ES256, false},
		{jwk(ecKey.Public(), "", ""), jose.ES256, true},
		{jwk(ecKey.Public(), "", ""), jose.EdDSA, false},
		{jwk(edKey.Public(), "", ""), jose.EdDSA, true},
		{jwk(edKey.Public(), "", ""), jose.HS256, false},
		{jwk(rsaKey.Public(), "", ""), jose.RS512, false},
	}
	for _, tt := range tests {
		if got := Fits(tt.key, tt.alg); got != tt.want {
			t.Errorf("Fits(%T alg %q, %s): got %v, want %v", tt.key.Key, tt.key.Algorithm, tt.alg, got, tt.want)
		}
	}
}

func TestCheckURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://portal.example.gov.vn/jwks.json":                    true,
		"http://127.0.0.1:8080/jwks":                                 true,
		"http://localhost/jwks":                                      true,
		"http://[::1]/jwks":                                          true,
		"http://portal.example.gov.vn/jwks":                          false,
		"https://u:p@portal.example.gov.vn/jwks":                     false,
		"https://portal.example.gov.vn/jwks#x":                       false,
		"/jwks":                                                      false,
		"ftp://portal.example.gov.vn/jwks":                           false,
		"https://portal.example.gov.vn/" + strings.Repeat("a", 2048): false,
	} {
		if err := CheckURI(uri); (err == nil) != ok {
			t.Errorf("CheckURI(%.60q): got %v, want ok=%v", uri, err, ok)
		}
	}
}

// FuzzParse: whatever the bytes, Parse never panics, and a set it accepts
// holds only public signing keys with distinct ids that some accepted
// algorithm fits, and survives a round trip.
func FuzzParse(f *testing.F) {
	f.Add(set(f, jwk(rsaKey.Public(), "r1", "RS256")))
	f.Add(set(f, jwk(ecKey.Public(), "e1", "ES256"), jwk(edKey.Public(), "o1", "")))
	f.Add(set(f, jwk(ecKey, "e1", "")))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","x5c":["MIIB"]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Parse(raw)
		if err != nil {
			if s != nil {
				t.Fatal("got a set and an error")
			}
			return
		}
		if len(s.Keys) == 0 || len(s.Keys) > MaxKeys {
			t.Fatalf("got %d keys, want 1 to %d", len(s.Keys), MaxKeys)
		}
		seen := map[string]bool{}
		for _, k := range s.Keys {
			if !k.IsPublic() {
				t.Fatalf("key %q: got a private key accepted", k.KeyID)
			}
			if seen[k.KeyID] {
				t.Fatalf("key id %q twice", k.KeyID)
			}
			seen[k.KeyID] = true
			fits := false
			for _, alg := range Algorithms {
				fits = fits || Fits(k, alg)
			}
			if !fits {
				t.Fatalf("key %q (%T, alg %q): accepted, but no algorithm fits it", k.KeyID, k.Key, k.Algorithm)
			}
			if _, err := k.Thumbprint(crypto.SHA256); err != nil {
				t.Fatalf("key %q: thumbprint: %v", k.KeyID, err)
			}
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal an accepted set: %v", err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("an accepted set, marshalled again, is refused: %v", err)
		}
	})
}
