package certificate

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/templates"
)

// submit posts a certificate step for txn and returns what Verify said.
func submit(f *fixture, txn *login.Txn, form url.Values) (string, error) {
	r := httptest.NewRequest(http.MethodPost, "/login/"+txn.ID, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ParseForm()
	id, _, err := f.a.Method().Verify(r.Context(), r, txn)
	return id, err
}

func prepare(f *fixture, txn *login.Txn, query string) *Page {
	f.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/login/"+txn.ID+query, nil)
	p, err := f.a.Method().Prepare(r.Context(), r, txn)
	if err != nil {
		f.t.Fatal(err)
	}
	return p.(*Page)
}

func stepMessage(t *testing.T, err error) string {
	t.Helper()
	se, ok := err.(*login.StepError)
	if !ok {
		t.Fatalf("got %v (%T), want a *login.StepError", err, err)
	}
	return se.Message
}

func TestChallenge(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.citizen("001099012345")
	leaf := f.leaf(certtest.LeafOptions{SerialNumber: "CCCD:001099012345"})
	txn := &login.Txn{ID: "txn-1", Request: login.Request{ClientID: "portal"}}

	p := prepare(f, txn, "")
	tok := leaf.Token(t, "ES256", testOrigin, p.Nonce)
	id, err := submit(f, txn, url.Values{"mode": {"challenge"}, "token": {tok}})
	if err != nil || id != c.ID {
		t.Fatalf("got %q, %v; want %q", id, err, c.ID)
	}
	ev := f.lastAudit()
	if ev.Outcome != "success" || ev.Details["cert_serial"] != SerialHex(leaf.Cert) || ev.Details["revocation_source"] != "ocsp" ||
		ev.Details["citizen_number"] != "0010******45" || ev.Details["mapped_by"] != "subject" || ev.Details["client"] != "portal" {
		t.Errorf("audit: got %+v, want success with serial, evidence and the masked number", ev)
	}
	for k, v := range ev.Details {
		if strings.Contains(v, "001099012345") || strings.Contains(v, "NGUYỄN") {
			t.Errorf("audit detail %s=%q holds the subject's personal data", k, v)
		}
	}

	t.Run("replayed nonce", func(t *testing.T) {
		_, err := submit(f, txn, url.Values{"mode": {"challenge"}, "token": {tok}})
		if m := stepMessage(t, err); m != msgChallenge {
			t.Errorf("got %q, want %q", m, msgChallenge)
		}
		if r := f.lastAudit().Details["reason"]; !strings.Contains(r, "already used") {
			t.Errorf("audit reason: got %q, want the nonce already used", r)
		}
	})
	t.Run("token of an older nonce", func(t *testing.T) {
		old := prepare(f, txn, "")
		prepare(f, txn, "") // the page shown again: a new nonce replaces it
		_, err := submit(f, txn, url.Values{"mode": {"challenge"}, "token": {leaf.Token(t, "ES256", testOrigin, old.Nonce)}})
		if m := stepMessage(t, err); m != msgSignature {
			t.Errorf("got %q, want %q", m, msgSignature)
		}
	})
	t.Run("signature over another origin", func(t *testing.T) {
		p := prepare(f, txn, "")
		_, err := submit(f, txn, url.Values{"mode": {"challenge"}, "token": {leaf.Token(t, "ES256", "https://id.example.gov.evil.example", p.Nonce)}})
		if m := stepMessage(t, err); m != msgSignature {
			t.Errorf("got %q, want %q", m, msgSignature)
		}
		if r := f.lastAudit().Details["reason"]; !strings.Contains(r, "signature does not verify") {
			t.Errorf("audit reason: got %q", r)
		}
	})
	t.Run("step-up of another citizen", func(t *testing.T) {
		f.citizen("079201000123")
		other := &login.Txn{ID: "txn-2", CitizenID: "cit-079201000123"}
		p := prepare(f, other, "")
		_, err := submit(f, other, url.Values{"mode": {"challenge"}, "token": {leaf.Token(t, "ES256", testOrigin, p.Nonce)}})
		if m := stepMessage(t, err); m != msgOther {
			t.Errorf("got %q, want %q", m, msgOther)
		}
	})
	t.Run("no account", func(t *testing.T) {
		p := prepare(f, txn, "")
		stranger := f.leaf(certtest.LeafOptions{SerialNumber: "CCCD:012345678901"})
		_, err := submit(f, txn, url.Values{"mode": {"challenge"}, "token": {stranger.Token(t, "ES256", testOrigin, p.Nonce)}})
		if m := stepMessage(t, err); m != msgUnmapped {
			t.Errorf("got %q, want %q", m, msgUnmapped)
		}
	})
	t.Run("malformed form", func(t *testing.T) {
		for _, form := range []url.Values{{}, {"mode": {"x"}}, {"mode": {"challenge"}}, {"mode": {"challenge", "tls"}}} {
			if _, err := submit(f, txn, form); stepMessage(t, err) != "err_form" {
				t.Errorf("form %v: got %v, want err_form", form, err)
			}
		}
	})
}

func TestBinding(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.citizen("001099012345")
	other := f.citizen("079201000123")
	official := f.leaf(certtest.LeafOptions{CommonName: "Cán bộ", SerialNumber: "MST:0101234567"})
	bind := func(citizenID string, l *certtest.Leaf) string {
		t.Helper()
		nonce, err := f.a.BeginBinding(t.Context(), citizenID, "sid-"+citizenID)
		if err != nil {
			t.Fatal(err)
		}
		b, msg, err := f.a.Bind(t.Context(), citizenID, "sid-"+citizenID, l.Token(t, "ES256", testOrigin, nonce), "  Token của tôi  ")
		if err != nil {
			t.Fatal(err)
		}
		if msg == "" && b.Name != "Token của tôi" {
			t.Errorf("binding name: got %q", b.Name)
		}
		return msg
	}
	txn := &login.Txn{ID: "txn-b"}
	login := func(l *certtest.Leaf) (string, error) {
		p := prepare(f, txn, "")
		return submit(f, txn, url.Values{"mode": {"challenge"}, "token": {l.Token(t, "ES256", testOrigin, p.Nonce)}})
	}
	if _, err := login(official); stepMessage(t, err) != msgUnmapped {
		t.Fatalf("before binding: got %v, want %s", err, msgUnmapped)
	}
	if msg := bind(c.ID, official); msg != "" {
		t.Fatalf("bind: got refusal %q, want bound", msg)
	}
	if id, err := login(official); err != nil || id != c.ID {
		t.Fatalf("after binding: got %q, %v; want %q", id, err, c.ID)
	}
	if ev := f.lastAudit(); ev.Details["mapped_by"] != "binding" {
		t.Errorf("audit mapped_by: got %q, want binding", ev.Details["mapped_by"])
	}
	list, _ := f.a.Bindings(t.Context(), c.ID)
	if len(list) != 1 || list[0].LastUsedAt.IsZero() || list[0].Serial != SerialHex(official.Cert) {
		t.Errorf("bindings: got %+v, want one, used", list)
	}
	if msg := bind(other.ID, official); msg != msgOther {
		t.Errorf("binding another's certificate: got %q, want %q", msg, msgOther)
	}
	if msg := bind(c.ID, official); msg != msgBound {
		t.Errorf("binding twice: got %q, want %q", msg, msgBound)
	}
	// A certificate that names another citizen cannot be bound.
	if msg := bind(c.ID, f.leaf(certtest.LeafOptions{SerialNumber: "CCCD:079201000123"})); msg != msgOther {
		t.Errorf("binding a certificate of another citizen: got %q, want %q", msg, msgOther)
	}
	// A nonce is bound to its citizen and used once.
	nonce, _ := f.a.BeginBinding(t.Context(), c.ID, "sid-x")
	if _, msg, _ := f.a.Bind(t.Context(), other.ID, "sid-x", official.Token(t, "ES256", testOrigin, nonce), ""); msg != msgChallenge {
		t.Errorf("another citizen's nonce: got %q, want %q", msg, msgChallenge)
	}
	if err := f.a.Unbind(t.Context(), c.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := login(official); stepMessage(t, err) != msgUnmapped {
		t.Errorf("after unbinding: got %v, want %s", err, msgUnmapped)
	}
}

func TestTLSListener(t *testing.T) {
	f := newFixture(t, fixtureOptions{tls: TLSOptions{URL: "https://cert.id.example.gov", Listen: "127.0.0.1:0",
		TrustedProxies: []string{"192.0.2.10"}, Header: "X-Client-Certificate"}})
	renderer, err := server.NewRenderer(templates.FS, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.a.o.Renderer = renderer
	srv, err := f.a.TLSServer()
	if err != nil || srv == nil || srv.TLSConfig != nil {
		t.Fatalf("got %+v, %v; want a plain listener behind a proxy", srv, err)
	}
	c := f.citizen("001099012345")
	leaf := f.leaf(certtest.LeafOptions{SerialNumber: "CCCD:001099012345"})
	header := url.QueryEscape(string(certtest.PEM(leaf.Cert, f.inter.Cert)))
	txn := &login.Txn{ID: "txn-tls"}

	visit := func(remote string, withHeader bool) *httptest.ResponseRecorder {
		p := prepare(f, txn, "")
		if !strings.HasPrefix(p.TLSURL, "https://cert.id.example.gov/tls/") {
			t.Fatalf("TLS URL: got %q", p.TLSURL)
		}
		r := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(p.TLSURL, "https://cert.id.example.gov"), nil)
		r.RemoteAddr = remote
		if withHeader {
			r.Header.Set("X-Client-Certificate", header)
		}
		w := httptest.NewRecorder()
		srv.Handler.ServeHTTP(w, r)
		return w
	}
	t.Run("header from an untrusted address is ignored", func(t *testing.T) {
		w := visit("127.0.0.1:5000", true)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `id="cert-tls-error"`) ||
			!strings.Contains(w.Body.String(), testOrigin+"/login/"+txn.ID) {
			t.Errorf("got %d %.300s, want the no-certificate page with a way back", w.Code, w.Body.String())
		}
	})
	t.Run("no certificate from the proxy", func(t *testing.T) {
		if w := visit("192.0.2.10:5000", false); w.Code != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", w.Code)
		}
	})
	t.Run("header from the trusted proxy", func(t *testing.T) {
		w := visit("192.0.2.10:5000", true)
		loc, _ := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusSeeOther || loc.Path != "/login/"+txn.ID || loc.Host != "id.example.gov" {
			t.Fatalf("got %d %q, want a redirect back to the login page", w.Code, loc)
		}
		h := loc.Query().Get("certificate")
		if p := prepare(f, txn, "?certificate="+h); p.TLSHandle != h {
			t.Fatalf("page handle: got %q, want %q", p.TLSHandle, h)
		}
		id, err := submit(f, txn, url.Values{"mode": {"tls"}, "handle": {h}})
		if err != nil || id != c.ID {
			t.Fatalf("got %q, %v; want %q", id, err, c.ID)
		}
		if ev := f.lastAudit(); ev.Details["mode"] != "tls" || ev.Outcome != "success" {
			t.Errorf("audit: got %+v", ev)
		}
		if _, err := submit(f, txn, url.Values{"mode": {"tls"}, "handle": {h}}); stepMessage(t, err) != msgChallenge {
			t.Errorf("handle used twice: got %v, want %s", err, msgChallenge)
		}
	})
	t.Run("ticket used twice", func(t *testing.T) {
		p := prepare(f, txn, "")
		path := strings.TrimPrefix(p.TLSURL, "https://cert.id.example.gov")
		for i, want := range []int{http.StatusSeeOther, http.StatusNotFound} {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			r.RemoteAddr = "192.0.2.10:1"
			r.Header.Set("X-Client-Certificate", header)
			w := httptest.NewRecorder()
			srv.Handler.ServeHTTP(w, r)
			if w.Code != want {
				t.Errorf("visit %d: got %d, want %d", i+1, w.Code, want)
			}
		}
	})
	t.Run("handle of another login", func(t *testing.T) {
		w := visit("192.0.2.10:5000", true)
		loc, _ := url.Parse(w.Header().Get("Location"))
		_, err := submit(f, &login.Txn{ID: "txn-other"}, url.Values{"mode": {"tls"}, "handle": {loc.Query().Get("certificate")}})
		if stepMessage(t, err) != msgChallenge {
			t.Errorf("got %v, want %s", err, msgChallenge)
		}
	})
}

func TestParseHeaderCertificates(t *testing.T) {
	root := certtest.NewRoot(t, "Root")
	leaf := root.Issue(t, certtest.LeafOptions{})
	pemText := string(certtest.PEM(leaf.Cert))
	for name, v := range map[string]string{
		"escaped":     url.QueryEscape(pemText),
		"plain":       pemText,
		"tabs":        strings.ReplaceAll(pemText, "\n", "\t"),
		"one line":    strings.ReplaceAll(strings.TrimSpace(pemText), "\n", " "),
		"with chain":  url.QueryEscape(string(certtest.PEM(leaf.Cert, root.Cert))),
		"key skipped": string(certtest.KeyPEM(t, leaf.Key)) + pemText,
	} {
		certs, err := parseHeaderCertificates(v)
		if err != nil || !certs[0].Equal(leaf.Cert) {
			t.Errorf("%s: got %v, want the certificate", name, err)
		}
	}
	for _, v := range []string{"", "garbage", "%zz", strings.Repeat("A", MaxTokenBytes+1)} {
		if _, err := parseHeaderCertificates(v); err == nil {
			t.Errorf("%.20q: got nil, want an error", v)
		}
	}
}
