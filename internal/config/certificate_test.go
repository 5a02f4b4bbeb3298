package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate"
	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
)

func TestCertificateDefaults(t *testing.T) {
	if DefaultCertificatePattern != certificate.DefaultPattern {
		t.Errorf("got pattern %q, want certificate.DefaultPattern %q", DefaultCertificatePattern, certificate.DefaultPattern)
	}
	c := Default()
	c.Certificate.Enabled = true
	wantErrs(t, c.Validate(), "certificate: anchors: at least one trust anchor is required")
}

func TestValidateCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	root := certtest.NewRoot(t, "Root CA")
	inter := root.Intermediate(t, "Issuing CA", certtest.CAOptions{})
	orphan := certtest.NewRoot(t, "Other Root").Intermediate(t, "Orphan CA", certtest.CAOptions{})
	rootPEM := certtest.WritePEM(t, dir, "root.pem", root.Cert)
	interPEM := certtest.WritePEM(t, dir, "inter.pem", inter.Cert)
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)

	good := Default()
	good.Certificate.Enabled = true
	good.Certificate.Anchors = []string{rootPEM}
	good.Certificate.Intermediates = []string{interPEM}
	good.Certificate.CAs = []CertificateCAConfig{{Certificate: interPEM, Revocation: "ocsp"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good trust: got %v, want nil", err)
	}

	c := good
	c.Certificate.Anchors = []string{bad, rootPEM}
	c.Certificate.Intermediates = []string{interPEM, certtest.WritePEM(t, dir, "orphan.pem", orphan.Cert)}
	wantErrs(t, c.Validate(), "bad.pem: bad PEM", "Orphan CA", "does not chain to a trust anchor")

	expired := root.Intermediate(t, "Expired CA", certtest.CAOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	expiredRoot := certtest.WritePEM(t, dir, "expired-anchor.pem", expired.Cert)
	c = good
	c.Certificate.Anchors = []string{rootPEM, expiredRoot}
	wantErrs(t, c.Validate(), "anchor", "Expired CA", "expired on")

	// Disabled: the files are not read.
	c.Certificate.Enabled = false
	c.Certificate.Anchors = []string{bad}
	if err := c.Validate(); err != nil {
		t.Errorf("disabled: got %v, want nil", err)
	}
}

func TestValidateCertificateFields(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *CertificateConfig)
		want string
	}{
		{"weaker policy", func(c *CertificateConfig) { c.CAs = []CertificateCAConfig{{Revocation: "soft_fail"}} }, `certificate.cas[0].revocation "soft_fail"`},
		{"key usage", func(c *CertificateConfig) { c.Profile.KeyUsage = []string{"key_encipherment"} }, "certificate.profile.key_usage"},
		{"no key usage", func(c *CertificateConfig) { c.Profile.KeyUsage = nil }, "at least one of"},
		{"small RSA", func(c *CertificateConfig) { c.Profile.MinRSABits = 1024 }, "min_rsa_bits 1024"},
		{"curve", func(c *CertificateConfig) { c.Profile.Curves = []string{"P-521"} }, `curves "P-521"`},
		{"attribute", func(c *CertificateConfig) { c.Mapping.Attribute = "CN" }, `attribute "CN"`},
		{"bad pattern", func(c *CertificateConfig) { c.Mapping.Pattern = "(" }, "certificate.mapping.pattern"},
		{"pattern without group", func(c *CertificateConfig) { c.Mapping.Pattern = `^\d{12}$` }, "capture group"},
		{"slow OCSP", func(c *CertificateConfig) { c.Revocation.OCSPTimeout = time.Minute }, "ocsp_timeout: at most"},
		{"zero CRL refresh", func(c *CertificateConfig) { c.Revocation.CRLRefresh = 0 }, "crl_refresh: must be a positive"},
		{"long challenge", func(c *CertificateConfig) { c.ChallengeTTL = time.Hour }, "challenge_ttl"},
		{"listen without url", func(c *CertificateConfig) { c.TLS.Listen = ":8443" }, "set certificate.tls.url too"},
		{"http url", func(c *CertificateConfig) {
			c.TLS = CertificateTLSConfig{URL: "http://cert.example", Listen: ":1", CertFile: "a", KeyFile: "b"}
		}, "absolute https URL"},
		{"issuer's host", func(c *CertificateConfig) {
			c.TLS = CertificateTLSConfig{URL: "https://id.example.gov", Listen: ":1", CertFile: "a", KeyFile: "b"}
		}, "needs its own host name"},
		{"url with path", func(c *CertificateConfig) {
			c.TLS = CertificateTLSConfig{URL: "https://cert.example/x", Listen: ":1", CertFile: "a", KeyFile: "b"}
		}, "no path"},
		{"plain without proxy", func(c *CertificateConfig) { c.TLS = CertificateTLSConfig{URL: "https://cert.example", Listen: ":1"} }, "TLS-terminating proxy"},
		{"key without cert", func(c *CertificateConfig) {
			c.TLS = CertificateTLSConfig{URL: "https://cert.example", Listen: ":1", KeyFile: "b", TrustedProxies: []string{"10.0.0.1"}, Header: "X"}
		}, "cert_file and key_file together"},
		{"proxy /0", func(c *CertificateConfig) { c.TLS.TrustedProxies = []string{"0.0.0.0/0"} }, "from anyone"},
		{"bad listen", func(c *CertificateConfig) {
			c.TLS = CertificateTLSConfig{URL: "https://cert.example", Listen: "nope", CertFile: "a", KeyFile: "b"}
		}, `certificate.tls.listen "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := production()
			tt.mod(&c.Certificate)
			wantErrs(t, c.Validate(), tt.want)
		})
	}
	t.Run("a good listener", func(t *testing.T) {
		c := production()
		c.Certificate.TLS = CertificateTLSConfig{URL: "https://cert.id.example.gov", Listen: ":8443",
			TrustedProxies: []string{"10.0.0.0/8"}, Header: "X-Client-Certificate"}
		if err := c.Validate(); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

func TestParseReportsKeyPathInLists(t *testing.T) {
	c := Default()
	err := Parse([]byte("certificate:\n  cas:\n    - certificat: x\n"), &c)
	wantErrs(t, err, "unknown key certificate.cas[].certificat")
}
