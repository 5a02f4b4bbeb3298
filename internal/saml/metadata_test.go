package saml

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/citizenid/citizenid/internal/keys"
)

// Signed metadata verifies with crewjam's own metadata check, against the
// certificate derived for the key, and not against another.
func TestSignedMetadata(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	kid := strings.Repeat("AbCdEfGhIjK", 4)[:43]
	cert, err := selfSigned(keys.PublicKey{ID: kid, Key: &key.PublicKey, CreatedAt: time.Now()}, key)
	if err != nil {
		t.Fatal(err)
	}
	idp := &saml.IdentityProvider{Signer: key, Certificate: cert, Logger: libLogger{nil},
		MetadataURL: *mustParse(t, "https://id.example.gov.vn/saml/metadata"), SSOURL: *mustParse(t, "https://id.example.gov.vn/saml/sso")}
	signed, err := signMetadata(idp, idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	ed, err := samlsp.ParseSignedMetadata(signed, []*x509.Certificate{cert})
	if err != nil {
		t.Fatalf("signed metadata does not verify: %v\n%s", err, signed)
	}
	if ed.EntityID != "https://id.example.gov.vn/saml/metadata" {
		t.Errorf("entity ID: got %q", ed.EntityID)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherCert, err := selfSigned(keys.PublicKey{ID: kid, Key: &other.PublicKey, CreatedAt: time.Now()}, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := samlsp.ParseSignedMetadata(signed, []*x509.Certificate{otherCert}); err == nil {
		t.Error("signed metadata verified with another key")
	}

	// The certificate is a function of the key: the same bytes every time.
	again, err := selfSigned(keys.PublicKey{ID: kid, Key: &key.PublicKey, CreatedAt: cert.NotBefore.Add(time.Hour)}, key)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(cert) {
		t.Error("the certificate of one key differs between two derivations")
	}
	if _, err := selfSigned(keys.PublicKey{ID: kid, Key: &other.PublicKey}, key); err == nil {
		t.Error("a certificate for another key's public half was made")
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
