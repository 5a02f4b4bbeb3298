package saml_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	citizensaml "github.com/citizenid/citizenid/internal/saml"
)

func spMetadata(t *testing.T, edit func(string) string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		return []byte(edit(string(b)))
	}
	return b
}

func withKey(use string) func(string) string {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	kd := `<md:KeyDescriptor use="` + use + `"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	return func(s string) string {
		return strings.Replace(s, `protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`, `protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`+kd, 1)
	}
}

func TestNewServiceProvider(t *testing.T) {
	sp, err := citizensaml.NewServiceProvider(citizensaml.SPSpec{MetadataXML: spMetadata(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if sp.EntityID != "https://legacy.example.gov.vn/saml/metadata" || sp.Name != "Cổng dịch vụ cũ" || sp.MinLevel != 1 ||
		!slices.Equal(sp.ACSURLs, []string{"https://legacy.example.gov.vn/saml/acs"}) ||
		!slices.Equal(sp.Attributes, []string{"identity_level"}) || sp.NameIDFormat != citizensaml.NameIDPersistent {
		t.Errorf("defaults: got %+v", sp)
	}

	tests := []struct {
		name string
		spec citizensaml.SPSpec
		want string // in the error
	}{
		{"not XML", citizensaml.SPSpec{MetadataXML: []byte("hello")}, "metadata"},
		{"DTD", citizensaml.SPSpec{MetadataXML: spMetadata(t, func(s string) string {
			return strings.Replace(s, "<md:EntityDescriptor", `<!DOCTYPE x [<!ENTITY e "x">]><md:EntityDescriptor`, 1)
		})}, "document type"},
		{"an IdP's metadata", citizensaml.SPSpec{MetadataXML: []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:idp"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`)}, "no SPSSODescriptor"},
		{"http ACS on a public host", citizensaml.SPSpec{MetadataXML: spMetadata(t, func(s string) string {
			return strings.Replace(s, "https://legacy.example.gov.vn/saml/acs", "http://legacy.example.gov.vn/saml/acs", 1)
		})}, "must be https"},
		{"no POST ACS", citizensaml.SPSpec{MetadataXML: spMetadata(t, func(s string) string {
			return strings.Replace(s, "bindings:HTTP-POST", "bindings:PAOS", 1)
		})}, "no HTTP-POST AssertionConsumerService"},
		{"citizen number without permission", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), Attributes: []string{"citizen_number"}}, "allow-citizen-number"},
		{"citizen-number NameID without permission", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), NameIDFormat: "citizen-number"}, "allow-citizen-number"},
		{"unknown attribute", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), Attributes: []string{"email"}}, "not one of"},
		{"level 5", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), MinLevel: 5}, "minimum level"},
		{"encryption without a certificate", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), EncryptAssertions: true}, "no encryption certificate"},
		{"signed requests without a certificate", citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), RequireSignedRequests: true}, "no signing certificate"},
		{"encryption with a signing-only certificate", citizensaml.SPSpec{MetadataXML: spMetadata(t, withKey("signing")), EncryptAssertions: true}, "no encryption certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := citizensaml.NewServiceProvider(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}

	// Every problem at once.
	_, err = citizensaml.NewServiceProvider(citizensaml.SPSpec{MetadataXML: spMetadata(t, nil), MinLevel: 9, Attributes: []string{"x", "citizen_number"}})
	if err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Errorf("several problems: got %v, want each on its line", err)
	}

	// A key without a use serves for encryption; AuthnRequestsSigned in the
	// metadata makes signed requests required.
	sp, err = citizensaml.NewServiceProvider(citizensaml.SPSpec{MetadataXML: spMetadata(t, func(s string) string {
		s = withKey("")(s)
		return strings.Replace(s, `<md:SPSSODescriptor `, `<md:SPSSODescriptor AuthnRequestsSigned="true" `, 1)
	}), EncryptAssertions: true})
	if err != nil || !sp.RequireSignedRequests || !sp.EncryptAssertions {
		t.Errorf("key without use: got %v, %+v", err, sp)
	}
}
