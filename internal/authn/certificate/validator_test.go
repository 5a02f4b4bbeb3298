package certificate

import (
	"crypto/elliptic"
	"crypto/x509"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
)

func TestValidateProfileAndChain(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	stranger := certtest.NewRoot(t, "Unknown Root CA").Intermediate(t, "Unknown Issuing CA", certtest.CAOptions{})
	// A CA of the trusted root that may issue only e-mail certificates.
	emailCA := f.root.Intermediate(t, "E-mail Only CA", certtest.CAOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}})
	now := time.Now()
	tests := []struct {
		name string
		cert func() *x509.Certificate
		// presented intermediates, as a TLS client sends them
		presented []*x509.Certificate
		want      string // "" accepted, else a substring of the refusal reason
		msg       string
	}{
		{"ECDSA P-256, CCCD", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{SerialNumber: "CCCD:001099012345"}).Cert
		}, nil, "", ""},
		{"ECDSA P-384", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{Key: certtest.ECKey(t, elliptic.P384())}).Cert
		}, nil, "", ""},
		{"RSA 2048", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{Key: certtest.RSAKey(t, 2048)}).Cert
		}, nil, "", ""},
		{"nonRepudiation only", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{KeyUsage: x509.KeyUsageContentCommitment}).Cert
		}, nil, "", ""},
		{"no extended key usage", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{NoExtKeyUse: true}).Cert
		}, nil, "", ""},
		{"expired", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}).Cert
		}, nil, "certificate expired", msgExpired},
		{"not yet valid", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}).Cert
		}, nil, "certificate not valid before", msgNotYetValid},
		{"key encipherment only", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{KeyUsage: x509.KeyUsageKeyEncipherment}).Cert
		}, nil, "lacks digitalSignature and nonRepudiation", msgUsage},
		{"no key usage", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{NoKeyUsage: true}).Cert
		}, nil, "lacks digitalSignature and nonRepudiation", msgUsage},
		{"EKU without clientAuth", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}).Cert
		}, nil, "extended key usage present without clientAuth", msgUsage},
		{"server certificate", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).Cert
		}, nil, "extended key usage present without clientAuth", msgUsage},
		{"RSA 1024", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{Key: certtest.RSAKey(t, 1024)}).Cert
		}, nil, "RSA key of 1024 bits", msgKey},
		{"ECDSA P-521", func() *x509.Certificate {
			return f.leaf(certtest.LeafOptions{Key: certtest.ECKey(t, elliptic.P521())}).Cert
		}, nil, "curve P-521 is not allowed", msgKey},
		{"unknown issuer", func() *x509.Certificate {
			return stranger.Issue(t, certtest.LeafOptions{}).Cert
		}, nil, "unknown issuer", msgUntrusted},
		{"CA not allowed to issue client certificates", func() *x509.Certificate {
			return emailCA.Issue(t, certtest.LeafOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}).Cert
		}, []*x509.Certificate{emailCA.Cert}, "a CA may not issue client-authentication certificates", msgUsage},
		{"a CA certificate", func() *x509.Certificate {
			return f.inter.Cert
		}, nil, "certificate is a CA certificate", msgUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := tt.cert()
			got, _ := f.validateWith(cert, tt.presented)
			if tt.want == "" {
				if got != "" {
					t.Fatalf("got refusal %q, want the certificate accepted", got)
				}
				return
			}
			if !contains(got, tt.want) {
				t.Fatalf("got refusal %q, want one mentioning %q", got, tt.want)
			}
			_, err := f.a.validator.Validate(t.Context(), cert, tt.presented)
			if r := err.(*Refusal); r.Message != tt.msg || !r.Citizen {
				t.Errorf("got message %q citizen %v, want %q true", r.Message, r.Citizen, tt.msg)
			}
		})
	}
}

func TestRevocation(t *testing.T) {
	t.Run("OCSP good, with nonce, then cached", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		l := f.leaf(certtest.LeafOptions{})
		got, v := f.validate(l.Cert)
		if got != "" {
			t.Fatalf("got refusal %q, want accepted", got)
		}
		if e := v.Evidence; e.Source != "ocsp" || e.Status != "good" || e.Nonce != "matched" || e.OCSPURL != f.ocsp.URL || e.NextUpdate.IsZero() {
			t.Errorf("evidence: got %+v, want a fresh OCSP answer with a matched nonce", e)
		}
		n := f.ocsp.Requests()
		f.ocsp.SetDown(true)
		got, v = f.validate(l.Cert)
		if got != "" || v.Evidence.Source != "ocsp-cache" {
			t.Errorf("second validation: got refusal %q source %q, want accepted from the OCSP cache", got, v.Evidence.Source)
		}
		if f.ocsp.Requests() != n {
			t.Errorf("responder requests: got %d, want %d (the cached answer used)", f.ocsp.Requests(), n)
		}
	})
	t.Run("OCSP revoked", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		l := f.leaf(certtest.LeafOptions{})
		f.ocsp.Revoke(l.Cert.SerialNumber)
		got, v := f.validate(l.Cert)
		if !contains(got, "certificate revoked (OCSP)") || v.Evidence.Status != "revoked" || v.Evidence.RevokedAt.IsZero() {
			t.Errorf("got refusal %q evidence %+v, want revoked by OCSP", got, v.Evidence)
		}
		// A revoked answer is cached too: it stays revoked with the responder down.
		f.ocsp.SetDown(true)
		if got, _ := f.validate(l.Cert); !contains(got, "revoked") {
			t.Errorf("with the responder down: got %q, want still revoked", got)
		}
	})
	t.Run("OCSP unknown", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		l := f.leaf(certtest.LeafOptions{})
		f.ocsp.Unknown(l.Cert.SerialNumber)
		if got, _ := f.validate(l.Cert); !contains(got, "status unknown") {
			t.Errorf("got %q, want refused as unknown", got)
		}
	})
	t.Run("OCSP down, CRL good", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		l := f.leaf(certtest.LeafOptions{})
		f.ocsp.SetDown(true)
		got, v := f.validate(l.Cert)
		if got != "" {
			t.Fatalf("got refusal %q, want accepted on the CRL", got)
		}
		if e := v.Evidence; e.Source != "crl" || e.CRLURL != f.crl.URL || e.CRLNumber == "" || !contains(e.OCSPError, "503") {
			t.Errorf("evidence: got %+v, want the CRL with OCSP's failure recorded", e)
		}
	})
	t.Run("CRL lists the certificate", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		l := f.leaf(certtest.LeafOptions{})
		f.crl.Revoke(l.Cert.SerialNumber)
		f.a.RefreshCRLs(t.Context())
		got, v := f.validate(l.Cert)
		if !contains(got, "certificate revoked (CRL") || v.Evidence.Source != "crl" {
			t.Errorf("got %q source %q, want revoked by the CRL even though OCSP says good", got, v.Evidence.Source)
		}
	})
	t.Run("both down", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{crlDown: true})
		f.ocsp.SetDown(true)
		l := f.leaf(certtest.LeafOptions{})
		got, v := f.validate(l.Cert)
		if !contains(got, "revocation status unavailable") || v.Evidence.OCSPError == "" || v.Evidence.CRLError == "" {
			t.Fatalf("got %q evidence %+v, want unavailable with both failures recorded", got, v.Evidence)
		}
		_, err := f.a.validator.Validate(t.Context(), l.Cert, nil)
		if r := err.(*Refusal); r.Message != msgUnavailable || r.Citizen {
			t.Errorf("got message %q citizen %v, want %q, not the citizen's doing", r.Message, r.Citizen, msgUnavailable)
		}
	})
	t.Run("stale CRL is not used", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		f.crl.SetDown(true) // no newer CRL to be had
		f.ocsp.SetDown(true)
		l := f.leaf(certtest.LeafOptions{})
		f.advance(2 * time.Hour) // past the cached CRL's nextUpdate
		if got, v := f.validate(l.Cert); !contains(got, "unavailable") || !contains(v.Evidence.CRLError, "stale since") {
			t.Errorf("got %q (CRL: %q), want unavailable: a stale CRL vouches for nothing", got, v.Evidence.CRLError)
		}
	})
	t.Run("an older CRL never replaces a newer one", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		f.crl.SetValidity(-time.Minute) // the server now hands out an old CRL
		f.a.RefreshCRLs(t.Context())
		f.ocsp.SetDown(true)
		if got, v := f.validate(f.leaf(certtest.LeafOptions{}).Cert); got != "" || v.Evidence.Source != "crl" {
			t.Errorf("got %q source %q, want the newer CRL kept and used", got, v.Evidence.Source)
		}
	})
	t.Run("slow OCSP is bounded by the timeout", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{ocspTimeout: 300 * time.Millisecond})
		f.ocsp.SetDelay(10 * time.Second)
		start := time.Now()
		got, v := f.validate(f.leaf(certtest.LeafOptions{}).Cert)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("validation took %v, want it bounded by the 300ms OCSP timeout", el)
		}
		if got != "" || v.Evidence.Source != "crl" || !contains(v.Evidence.OCSPError, "timed out") {
			t.Errorf("got %q evidence %+v, want accepted on the CRL after OCSP timed out", got, v.Evidence)
		}
	})
	t.Run("OCSP answers that are not usable", func(t *testing.T) {
		stranger := certtest.NewRoot(t, "Stranger")
		tests := []struct {
			name  string
			setup func(f *fixture)
			want  string
		}{
			{"wrong nonce", func(f *fixture) { f.ocsp.SetEchoNonce(true, true) }, "nonce does not match"},
			{"stale", func(f *fixture) { f.ocsp.SetValidity(-time.Minute) }, "stale"},
			{"signed by a stranger", func(f *fixture) { f.ocsp.SetSigner(stranger, false) }, "signature"},
			{"delegated responder without OCSPSigning", func(f *fixture) {
				f.ocsp.SetSigner(certtest.DelegatedResponder(t, f.inter, false), true)
			}, "lacks id-kp-OCSPSigning"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, fixtureOptions{})
				tt.setup(f)
				got, v := f.validate(f.leaf(certtest.LeafOptions{}).Cert)
				if got != "" || v.Evidence.Source != "crl" || !contains(v.Evidence.OCSPError, tt.want) {
					t.Errorf("got %q evidence source %q ocsp error %q, want OCSP rejected (%q) and the CRL used",
						got, v.Evidence.Source, v.Evidence.OCSPError, tt.want)
				}
			})
		}
	})
	t.Run("delegated responder and no nonce are accepted", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		f.ocsp.SetSigner(certtest.DelegatedResponder(t, f.inter, true), true)
		f.ocsp.SetEchoNonce(false, false)
		got, v := f.validate(f.leaf(certtest.LeafOptions{}).Cert)
		if got != "" || v.Evidence.Source != "ocsp" || v.Evidence.Responder != "delegated" || v.Evidence.Nonce != "absent" {
			t.Errorf("got %q evidence %+v, want accepted from the delegated responder, nonce absent", got, v.Evidence)
		}
	})
	t.Run("stricter CA policies", func(t *testing.T) {
		tests := []struct {
			policy    string
			ocspDown  bool
			nonce     bool
			wantRefus string
		}{
			{trust.OCSPOnly, true, true, "OCSP required"},
			{trust.OCSPOnly, false, true, ""},
			{trust.OCSPAndCRL, false, true, ""},
			{trust.OCSPAndCRL, true, true, "OCSP required"},
		}
		for _, tt := range tests {
			t.Run(tt.policy, func(t *testing.T) {
				f := newFixture(t, fixtureOptions{policy: tt.policy})
				f.ocsp.SetDown(tt.ocspDown)
				got, _ := f.validate(f.leaf(certtest.LeafOptions{}).Cert)
				if (tt.wantRefus == "" && got != "") || !contains(got, tt.wantRefus) {
					t.Errorf("OCSP down %v: got %q, want %q", tt.ocspDown, got, tt.wantRefus)
				}
			})
		}
		t.Run("ocsp_and_crl without a CRL", func(t *testing.T) {
			f := newFixture(t, fixtureOptions{policy: trust.OCSPAndCRL, crlDown: true})
			if got, _ := f.validate(f.leaf(certtest.LeafOptions{}).Cert); !contains(got, "a fresh CRL required") {
				t.Errorf("got %q, want refused without a fresh CRL", got)
			}
		})
	})
	t.Run("learnt CRL distribution point", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		other := certtest.NewCRLServer(t, f.inter)
		l := f.leaf(certtest.LeafOptions{CRLs: []string{other.URL}})
		if got, _ := f.validate(l.Cert); got != "" {
			t.Fatalf("got %q, want accepted on OCSP", got)
		}
		// The certificate's own distribution point is fetched in the background.
		deadline := time.Now().Add(5 * time.Second)
		for other.Requests() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if other.Requests() == 0 {
			t.Fatal("the learnt CRL was never downloaded")
		}
		f.a.RefreshCRLs(t.Context())
		f.ocsp.SetDown(true)
		l2 := f.leaf(certtest.LeafOptions{CRLs: []string{other.URL}})
		if got, v := f.validate(l2.Cert); got != "" || v.Evidence.Source != "crl" {
			t.Errorf("got %q source %q, want accepted on a CRL (configured or learnt)", got, v.Evidence.Source)
		}
	})
}
