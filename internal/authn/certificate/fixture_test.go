package certificate

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlite"
)

// fixture is a throwaway PKI (root → issuing CA → citizens) with an OCSP
// responder and a CRL server on loopback, and an Authenticator trusting it,
// on the embedded Redis and a SQLite store.
type fixture struct {
	t     *testing.T
	root  *certtest.CA
	inter *certtest.CA
	ocsp  *certtest.OCSPResponder
	crl   *certtest.CRLServer
	set   *trust.Set
	st    *sqlite.Store
	sess  *session.Store
	a     *Authenticator
	skew  atomic.Int64 // how far the authenticator's clock is ahead
}

// advance moves the authenticator's clock forward.
func (f *fixture) advance(d time.Duration) { f.skew.Add(int64(d)) }

const testOrigin = "https://id.example.gov"

type fixtureOptions struct {
	policy      string
	ocspTimeout time.Duration
	crlDown     bool
	tls         TLSOptions
}

func newFixture(t *testing.T, fo fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{t: t}
	f.root = certtest.NewRoot(t, "CitizenID Test Root CA")
	f.inter = f.root.Intermediate(t, "CitizenID Test Issuing CA", certtest.CAOptions{})
	f.ocsp = certtest.NewOCSPResponder(t, f.inter)
	f.crl = certtest.NewCRLServer(t, f.inter)
	f.crl.SetDown(fo.crlDown)
	dir := t.TempDir()
	set, err := trust.Load(trust.Options{
		Anchors:       []string{certtest.WritePEM(t, dir, "root.pem", f.root.Cert)},
		Intermediates: []string{certtest.WritePEM(t, dir, "inter.pem", f.inter.Cert)},
		CAs: []trust.CAOptions{{Certificate: certtest.WritePEM(t, dir, "issuing.pem", f.inter.Cert),
			CRLURLs: []string{f.crl.URL}, Revocation: fo.policy}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.set = set
	f.st, err = sqlite.Open(t.Context(), dir+"/citizenid.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	if err := f.st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	red, err := session.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	rdb := red.Client()
	t.Cleanup(func() { rdb.Close(); red.Close() })
	f.sess = session.New(rdb, session.Options{IdleTimeout: time.Hour, AbsoluteTimeout: time.Hour})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	timeout := fo.ocspTimeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	f.a, err = New(Options{
		Trust:      set,
		Revocation: RevocationOptions{OCSPTimeout: timeout, CRLTimeout: 2 * time.Second},
		Store:      f.st,
		Sessions:   f.sess,
		Audit:      audit.New(f.st, log, nil),
		Log:        log,
		Issuer:     testOrigin,
		TLS:        fo.tls,
		Now:        func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.a.Start()
	t.Cleanup(f.a.Close)
	f.a.RefreshCRLs(t.Context())
	return f
}

// leaf issues a citizen certificate naming the fixture's responders.
func (f *fixture) leaf(o certtest.LeafOptions) *certtest.Leaf {
	f.t.Helper()
	if o.OCSPServer == nil {
		o.OCSPServer = []string{f.ocsp.URL}
	}
	if o.CRLs == nil {
		o.CRLs = []string{f.crl.URL}
	}
	return f.inter.Issue(f.t, o)
}

// citizen creates a citizen with number.
func (f *fixture) citizen(number string) *store.Citizen {
	f.t.Helper()
	c := &store.Citizen{ID: "cit-" + number, Number: number, Name: "Nguyễn Văn An", IdentityLevel: 2}
	if err := f.st.CreateCitizen(f.t.Context(), c, ""); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// validate runs the Validator and returns the refusal reason ("" when accepted).
func (f *fixture) validate(c *x509.Certificate) (string, *Validated) {
	f.t.Helper()
	return f.validateWith(c, nil)
}

// validateWith is validate with intermediates the client presented.
func (f *fixture) validateWith(c *x509.Certificate, presented []*x509.Certificate) (string, *Validated) {
	f.t.Helper()
	v, err := f.a.validator.Validate(context.Background(), c, presented)
	if err == nil {
		return "", v
	}
	r, ok := err.(*Refusal)
	if !ok {
		f.t.Fatalf("got error %v (%T), want a *Refusal", err, err)
	}
	return r.Reason, v
}

// lastAudit returns the latest certificate.validate event.
func (f *fixture) lastAudit() store.AuditEvent {
	f.t.Helper()
	evs, err := f.st.ListAudit(context.Background(), store.AuditFilter{Action: "certificate.validate", Limit: 1000})
	if err != nil || len(evs) == 0 {
		f.t.Fatalf("audit: got %d events, %v; want at least one", len(evs), err)
	}
	return evs[len(evs)-1]
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
