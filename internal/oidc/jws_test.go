package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/keys"
)

// Tokens signed by signJWS carry the protected header go-jose wrote for
// them, byte for byte, and go-jose verifies them, for every algorithm and
// every typ we sign. ES256 is signed often enough that r or s with a
// leading zero byte comes up (r ‖ s must keep it).
func TestSignJWS(t *testing.T) {
	k := newJWTKeys(t)
	payload := []byte(`{"iss":"https://id.example.vn","sub":"s","exp":9999999999,"jti":"j"}`)
	for _, p := range k.published {
		sk := &keys.SigningKey{ID: p.ID, Algorithm: p.Algorithm, Signer: k.signers[p.ID], Public: p.Key}
		for _, typ := range []string{"at+jwt", "JWT", "logout+jwt"} {
			n := 1
			if p.Algorithm == "ES256" && typ == "JWT" {
				n = 600
			}
			for range n {
				ours, err := signJWS(sk, typ, payload)
				if err != nil {
					t.Fatalf("%s %s: %v", p.Algorithm, typ, err)
				}
				theirs := k.sign(t, p.Algorithm, p.ID, map[jose.HeaderKey]any{"typ": typ}, nil)
				if h := strings.Split(ours, ".")[0]; h != strings.Split(theirs, ".")[0] {
					t.Fatalf("%s %s: header %s, go-jose writes %s", p.Algorithm, typ, h, strings.Split(theirs, ".")[0])
				}
				jws, err := jose.ParseSignedCompact(ours, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(p.Algorithm)})
				if err != nil {
					t.Fatalf("%s %s: go-jose cannot parse %q: %v", p.Algorithm, typ, ours, err)
				}
				got, err := jws.Verify(p.Key)
				if err != nil || string(got) != string(payload) {
					t.Fatalf("%s %s: go-jose verification: %q, %v", p.Algorithm, typ, got, err)
				}
			}
		}
	}
	// A key of another type than its algorithm names signs nothing.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, alg := range []string{"ES256", "EdDSA", "HS256", "none"} {
		if tok, err := signJWS(&keys.SigningKey{ID: "x", Algorithm: alg, Signer: rk, Public: rk.Public()}, "JWT", payload); err == nil {
			t.Errorf("an RSA key signed %s: %q", alg, tok)
		}
	}
}
