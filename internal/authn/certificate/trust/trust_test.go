package trust_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	root := certtest.NewRoot(t, "Root CA")
	inter := root.Intermediate(t, "Issuing CA", certtest.CAOptions{})
	other := certtest.NewRoot(t, "Other Root").Intermediate(t, "Orphan CA", certtest.CAOptions{})
	expiredInter := root.Intermediate(t, "Old CA", certtest.CAOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	leaf := root.Issue(t, certtest.LeafOptions{})
	rootPEM := certtest.WritePEM(t, dir, "root.pem", root.Cert)
	interPEM := certtest.WritePEM(t, dir, "inter.pem", inter.Cert)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	caDir := filepath.Join(dir, "cas")
	os.Mkdir(caDir, 0o700)
	certtest.WritePEM(t, caDir, "root.crt", root.Cert)
	certtest.WritePEM(t, caDir, "inter.pem", inter.Cert)
	os.WriteFile(filepath.Join(caDir, "README"), []byte("not a certificate"), 0o600)

	t.Run("good, files and a directory", func(t *testing.T) {
		for _, o := range []trust.Options{
			{Anchors: []string{rootPEM}, Intermediates: []string{interPEM},
				CAs: []trust.CAOptions{{Certificate: interPEM, OCSPURL: "http://ocsp.example", Revocation: trust.OCSPOnly}}},
			{Anchors: []string{caDir}, Intermediates: []string{caDir}},
		} {
			set, err := trust.Load(o)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if len(set.Anchors) == 0 || len(set.Inters) == 0 {
				t.Errorf("got %d anchors, %d intermediates", len(set.Anchors), len(set.Inters))
			}
		}
		set, _ := trust.Load(trust.Options{Anchors: []string{rootPEM}, Intermediates: []string{interPEM},
			CAs: []trust.CAOptions{{Certificate: interPEM, OCSPURL: "http://ocsp.example", Revocation: trust.OCSPOnly}}})
		if p := set.Policy(inter.Cert); p.Revocation != trust.OCSPOnly || p.OCSPURL != "http://ocsp.example" {
			t.Errorf("policy: got %+v", p)
		}
		if p := set.Policy(root.Cert); p.Revocation != trust.OCSPOrCRL {
			t.Errorf("default policy: got %+v", p)
		}
	})

	tests := []struct {
		name string
		o    trust.Options
		want []string
	}{
		{"no anchors", trust.Options{}, []string{"at least one trust anchor"}},
		{"missing file", trust.Options{Anchors: []string{filepath.Join(dir, "nope.pem")}}, []string{"nope.pem", "no such file"}},
		{"bad PEM", trust.Options{Anchors: []string{write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}}, []string{"bad.pem: bad PEM"}},
		{"not PEM", trust.Options{Anchors: []string{write("text.pem", "hello")}}, []string{"text.pem: bad PEM: no certificate"}},
		{"a key, not a certificate", trust.Options{Anchors: []string{write("key.pem", string(certtest.KeyPEM(t, leaf.Key)))}}, []string{"want CERTIFICATE"}},
		{"expired anchor", trust.Options{Anchors: []string{rootPEM}, Now: time.Now().Add(20 * 365 * 24 * time.Hour)}, []string{"anchor", "expired on"}},
		{"anchor not a CA", trust.Options{Anchors: []string{certtest.WritePEM(t, dir, "leaf.pem", leaf.Cert)}}, []string{"not a CA certificate"}},
		{"missing intermediate", trust.Options{Anchors: []string{rootPEM}, Intermediates: []string{certtest.WritePEM(t, dir, "orphan.pem", other.Cert)}},
			[]string{`"CN=Orphan CA`, "does not chain to a trust anchor"}},
		{"expired intermediate", trust.Options{Anchors: []string{rootPEM}, Intermediates: []string{certtest.WritePEM(t, dir, "old.pem", expiredInter.Cert)}},
			[]string{"intermediate", "Old CA", "expired on"}},
		{"CA entry not in the trust", trust.Options{Anchors: []string{rootPEM}, CAs: []trust.CAOptions{{Certificate: interPEM}}},
			[]string{"cas[0].certificate", "neither an anchor nor an intermediate"}},
		{"weaker policy", trust.Options{Anchors: []string{rootPEM}, CAs: []trust.CAOptions{{Certificate: rootPEM, Revocation: "none"}}},
			[]string{`cas[0].revocation "none"`}},
		{"bad URL", trust.Options{Anchors: []string{rootPEM}, CAs: []trust.CAOptions{{Certificate: rootPEM, OCSPURL: "ldap://x"}}},
			[]string{"not an http(s) URL"}},
		{"CA entry without a file", trust.Options{Anchors: []string{rootPEM}, CAs: []trust.CAOptions{{}}}, []string{"cas[0].certificate: required"}},
		{"every problem at once", trust.Options{Anchors: []string{write("bad2.pem", "x"), rootPEM},
			Intermediates: []string{certtest.WritePEM(t, dir, "orphan2.pem", other.Cert)}},
			[]string{"bad2.pem", "Orphan CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trust.Load(tt.o)
			if err == nil {
				t.Fatalf("got nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}
