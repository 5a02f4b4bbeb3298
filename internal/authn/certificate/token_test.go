package certificate

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
)

func TestTokenSignatures(t *testing.T) {
	root := certtest.NewRoot(t, "Root")
	ca := root.Intermediate(t, "CA", certtest.CAOptions{})
	ec256 := ca.Issue(t, certtest.LeafOptions{})
	ec384 := ca.Issue(t, certtest.LeafOptions{Key: certtest.ECKey(t, elliptic.P384())})
	rsa := ca.Issue(t, certtest.LeafOptions{Key: certtest.RSAKey(t, 2048)})
	const nonce = "bm9uY2Ugb2YgdGhlIHRlc3Q"
	tests := []struct {
		name  string
		token string
	}{
		{"ES256", ec256.Token(t, "ES256", testOrigin, nonce)},
		{"ES384", ec384.Token(t, "ES384", testOrigin, nonce)},
		{"RS256", rsa.Token(t, "RS256", testOrigin, nonce)},
		{"RS512", rsa.Token(t, "RS512", testOrigin, nonce)},
		{"PS256", rsa.Token(t, "PS256", testOrigin, nonce)},
		{"PS384", rsa.Token(t, "PS384", testOrigin, nonce)},
		{"CMS with ECDSA", ec256.CMSToken(t, testOrigin, nonce)},
		{"CMS with RSA", rsa.CMSToken(t, testOrigin, nonce)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseToken([]byte(tt.token))
			if err != nil {
				t.Fatalf("ParseToken: got %v, want nil", err)
			}
			if err := tok.Verify(testOrigin, nonce); err != nil {
				t.Fatalf("Verify: got %v, want nil", err)
			}
			for _, bad := range []struct{ origin, nonce string }{
				{"https://evil.example", nonce},
				{"https://id.example.gov:8443", nonce},
				{testOrigin, nonce + "x"},
			} {
				if err := tok.Verify(bad.origin, bad.nonce); !errors.Is(err, errSignature) {
					t.Errorf("Verify(%q, %q): got %v, want errSignature", bad.origin, bad.nonce, err)
				}
			}
		})
	}
	t.Run("ES256 signature in ASN.1 form", func(t *testing.T) {
		var raw tokenJSON
		json.Unmarshal([]byte(ec256.Token(t, "ES256", testOrigin, nonce)), &raw)
		sig, _ := base64.StdEncoding.DecodeString(raw.Signature)
		der, _ := asn1ECDSA(sig)
		raw.Signature = base64.RawURLEncoding.EncodeToString(der)
		b, _ := json.Marshal(raw)
		tok, err := ParseToken(b)
		if err != nil || tok.Verify(testOrigin, nonce) != nil {
			t.Errorf("got parse error %v, want an ASN.1 ECDSA signature (base64url) accepted", err)
		}
	})
	t.Run("algorithm that does not fit the key", func(t *testing.T) {
		var raw tokenJSON
		json.Unmarshal([]byte(ec256.Token(t, "ES256", testOrigin, nonce)), &raw)
		raw.Algorithm = "RS256"
		b, _ := json.Marshal(raw)
		tok, err := ParseToken(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(testOrigin, nonce); err == nil || errors.Is(err, errSignature) {
			t.Errorf("got %v, want an algorithm mismatch", err)
		}
	})
	t.Run("CMS by another certificate", func(t *testing.T) {
		var raw, other tokenJSON
		json.Unmarshal([]byte(ec256.CMSToken(t, testOrigin, nonce)), &raw)
		json.Unmarshal([]byte(ec384.Token(t, "ES384", testOrigin, nonce)), &other)
		raw.UnverifiedCertificate = other.UnverifiedCertificate
		b, _ := json.Marshal(raw)
		tok, _ := ParseToken(b)
		if err := tok.Verify(testOrigin, nonce); err == nil {
			t.Error("got nil, want the CMS signer to have to be the token's certificate")
		}
	})
}

func asn1ECDSA(rs []byte) ([]byte, error) {
	half := len(rs) / 2
	enc := func(b []byte) []byte {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(enc(rs[:half]), enc(rs[half:])...)
	return append([]byte{0x30, byte(len(body))}, body...), nil
}

func TestParseTokenRefuses(t *testing.T) {
	root := certtest.NewRoot(t, "Root")
	leaf := root.Issue(t, certtest.LeafOptions{})
	good := leaf.Token(t, "ES256", testOrigin, "n")
	mutate := func(fn func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal([]byte(good), &m)
		fn(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"not JSON", "{", "unexpected EOF"},
		{"two documents", good + good, "trailing data"},
		{"unknown field", mutate(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"wrong format", mutate(func(m map[string]any) { m["format"] = "web-eid:2" }), "format"},
		{"no format", mutate(func(m map[string]any) { delete(m, "format") }), "format"},
		{"unknown algorithm", mutate(func(m map[string]any) { m["algorithm"] = "HS256" }), "algorithm"},
		{"ES512 not supported", mutate(func(m map[string]any) { m["algorithm"] = "ES512" }), "algorithm"},
		{"certificate not base64", mutate(func(m map[string]any) { m["unverifiedCertificate"] = "!!" }), "not base64"},
		{"certificate garbage", mutate(func(m map[string]any) { m["unverifiedCertificate"] = "AAAA" }), "unverifiedCertificate"},
		{"no signature", mutate(func(m map[string]any) { m["signature"] = "" }), "signature"},
		{"huge", `{"format":"` + strings.Repeat("x", MaxTokenBytes) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseToken([]byte(tt.in))
			if !errors.Is(err, errToken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a token error mentioning %q", err, tt.want)
			}
		})
	}
}

// FuzzParseToken: whatever a browser posts, ParseToken and Verify never
// panic, and a token that parses has a certificate and a signature; a
// mutated token never verifies for a challenge it was not signed for.
func FuzzParseToken(f *testing.F) {
	root := certtest.NewRoot(f, "Root")
	ec := root.Issue(f, certtest.LeafOptions{})
	rsa := root.Issue(f, certtest.LeafOptions{Key: certtest.RSAKey(f, 2048)})
	f.Add([]byte(ec.Token(f, "ES256", testOrigin, "n")))
	f.Add([]byte(rsa.Token(f, "PS256", testOrigin, "n")))
	f.Add([]byte(rsa.CMSToken(f, testOrigin, "n")))
	f.Add([]byte(`{"format":"web-eid:1","algorithm":"CMS","unverifiedCertificate":"","signature":"MA=="}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b)
		if err != nil {
			if !errors.Is(err, errToken) {
				t.Fatalf("got error %v, want it to wrap errToken", err)
			}
			return
		}
		if tok.Certificate == nil || len(tok.Signature) == 0 {
			t.Fatal("parsed token without certificate or signature")
		}
		if tok.Verify(testOrigin, "another nonce") == nil {
			t.Fatal("a token verified for a nonce it was not signed for")
		}
	})
}
