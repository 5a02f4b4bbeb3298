package oidc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func dpopProofFor(t testing.TB, alg jose.SignatureAlgorithm, key any, typ string, claims map[string]any) string {
	t.Helper()
	return signedJWT(t, alg, key, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)), claims)
}

// signedJWT signs claims with key (a jose.JSONWebKey names its kid).
func signedJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseDPoPProof(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	claims := func() map[string]any {
		return map[string]any{"jti": "j1", "htm": "POST", "htu": "https://id.example/oauth/token", "iat": time.Now().Unix()}
	}
	for _, tc := range []struct {
		name string
		raw  string
		want string // "" ok, else part of the error
	}{
		{"ES256", dpopProofFor(t, jose.ES256, ec, "dpop+jwt", claims()), ""},
		{"EdDSA", dpopProofFor(t, jose.EdDSA, ed, "dpop+jwt", claims()), ""},
		{"PS256", dpopProofFor(t, jose.PS256, rs, "dpop+jwt", claims()), ""},
		{"RS256 is not a DPoP algorithm here", dpopProofFor(t, jose.RS256, rs, "dpop+jwt", claims()), "signed with"},
		{"ES384", dpopProofFor(t, jose.ES384, ec384, "dpop+jwt", claims()), "signed with"},
		{"typ JWT", dpopProofFor(t, jose.ES256, ec, "JWT", claims()), "typ"},
		{"no jti", dpopProofFor(t, jose.ES256, ec, "dpop+jwt", map[string]any{"htm": "POST", "htu": "x", "iat": 1}), "jti"},
		{"no htu", dpopProofFor(t, jose.ES256, ec, "dpop+jwt", map[string]any{"jti": "j", "htm": "POST", "iat": 1}), "htm, htu and iat"},
		{"garbage", "a.b.c", "not a JWT"},
		{"empty", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseDPoPProof(tc.raw)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want a proof", err)
			case tc.want == "" && len(p.jkt) != 43:
				t.Fatalf("thumbprint %q, want 43 base64url characters", p.jkt)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
	// A proof whose embedded key is not the signer's does not verify.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := dpopProofFor(t, jose.ES256, ec, "dpop+jwt", claims())
	forged := dpopProofFor(t, jose.ES256, other, "dpop+jwt", claims())
	mixed := strings.Split(good, ".")[0] + "." + strings.Split(forged, ".")[1] + "." + strings.Split(forged, ".")[2]
	if _, err := parseDPoPProof(mixed); err == nil {
		t.Fatal("a proof signed by another key than its jwk verified")
	}
}

// FuzzParseDPoPProof: DPoP headers come straight from the internet;
// parsing never panics, and a proof it accepts has every required claim.
func FuzzParseDPoPProof(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(dpopProofFor(f, jose.ES256, ec, "dpop+jwt", map[string]any{"jti": "j", "htm": "GET", "htu": "https://x/userinfo", "iat": 1}))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := parseDPoPProof(raw)
		if err != nil {
			return
		}
		if p.claims.JTI == "" || p.claims.HTM == "" || p.claims.HTU == "" || p.claims.IAT == 0 || p.jkt == "" {
			t.Fatalf("accepted an incomplete proof: %+v", p)
		}
	})
}
