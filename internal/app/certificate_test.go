package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/authn/certificate"
	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/store"
)

// certPKI is a throwaway PKI with an OCSP responder and a CRL server on
// loopback, and the configuration that trusts it.
type certPKI struct {
	root, inter *certtest.CA
	ocsp        *certtest.OCSPResponder
	crl         *certtest.CRLServer
	dir         string
}

func newCertPKI(t *testing.T) *certPKI {
	p := &certPKI{dir: t.TempDir()}
	p.root = certtest.NewRoot(t, "CitizenID Test Root CA")
	p.inter = p.root.Intermediate(t, "CitizenID Test Issuing CA", certtest.CAOptions{})
	p.ocsp = certtest.NewOCSPResponder(t, p.inter)
	p.crl = certtest.NewCRLServer(t, p.inter)
	return p
}

func (p *certPKI) configure(t *testing.T, c *config.Config) {
	c.Certificate.Enabled = true
	c.Certificate.Anchors = []string{certtest.WritePEM(t, p.dir, "root.pem", p.root.Cert)}
	inter := certtest.WritePEM(t, p.dir, "issuing.pem", p.inter.Cert)
	c.Certificate.Intermediates = []string{inter}
	c.Certificate.CAs = []config.CertificateCAConfig{{Certificate: inter, CRLURLs: []string{p.crl.URL}}}
	c.Certificate.Revocation.OCSPTimeout = 500 * time.Millisecond
	c.Certificate.Revocation.CRLTimeout = 2 * time.Second
}

func (p *certPKI) leaf(t *testing.T, o certtest.LeafOptions) *certtest.Leaf {
	o.OCSPServer = []string{p.ocsp.URL}
	o.CRLs = []string{p.crl.URL}
	return p.inter.Issue(t, o)
}

// certPortal is a portal allowed the certificate scope.
type certPortal struct {
	t    *testing.T
	e    *env
	conf *oauth2.Config
}

func newCertPortal(t *testing.T, e *env) *certPortal {
	secret := e.addClient(t, clients.Spec{ID: "registry", Name: "Registry", RedirectURIs: []string{cbURL},
		Scopes: []string{oidc.ScopeCertificate}})
	return &certPortal{t: t, e: e, conf: &oauth2.Config{ClientID: "registry", ClientSecret: secret, RedirectURL: cbURL,
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"},
		Scopes:   []string{"openid", "profile", oidc.ScopeCertificate}}}
}

// begin asks for level 4 and returns the certificate step's page.
func (p *certPortal) begin(b *browser) (page, string) {
	p.t.Helper()
	v := oauth2.GenerateVerifier()
	pg := b.get(p.conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:4")))
	if !isLoginForm(pg) || !strings.Contains(pg.body, `id="use-certificate"`) {
		p.t.Fatalf("got %d %.300s, want the password page offering a certificate", pg.status, pg.body)
	}
	m := actionRE.FindStringSubmatch(pg.body)
	pg = b.post(p.e.URL+m[1], url.Values{"step": {"password"}, "use": {"certificate"}})
	if !strings.Contains(pg.body, `data-certificate-challenge`) {
		p.t.Fatalf("got %d %.300s, want the certificate page", pg.status, pg.body)
	}
	return pg, v
}

var (
	nonceRE   = regexp.MustCompile(`data-nonce="([^"]+)"`)
	tlsLinkRE = regexp.MustCompile(`id="cert-tls-link"|href="(https://[^"]+/tls/[^"]+)"`)
)

// sign signs the page's challenge with l and posts the token.
func (p *certPortal) sign(b *browser, pg page, l *certtest.Leaf, origin string) page {
	p.t.Helper()
	m, a := nonceRE.FindStringSubmatch(pg.body), actionRE.FindStringSubmatch(pg.body)
	if m == nil || a == nil {
		p.t.Fatalf("no challenge on the page: %.300s", pg.body)
	}
	return b.post(p.e.URL+a[1], url.Values{"step": {"certificate"}, "mode": {"challenge"},
		"token": {l.Token(p.t, "ES256", origin, m[1])}})
}

// tokens exchanges the code and returns the verified ID token's claims.
func (p *certPortal) tokens(pg page, verifier string) (map[string]any, *oauth2.Token) {
	p.t.Helper()
	q := portalRedirect(p.t, pg)
	tok, err := p.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		p.t.Fatal(err)
	}
	return verifyIDToken(p.t, p.e.URL, p.e.URL+"/keys", tok.Extra("id_token").(string), "registry"), tok
}

func lastCertAudit(t *testing.T, e *env) store.AuditEvent {
	t.Helper()
	evs, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "certificate.validate", Limit: 1000})
	if err != nil || len(evs) == 0 {
		t.Fatalf("got %d certificate audit events, %v", len(evs), err)
	}
	return evs[len(evs)-1]
}

func TestCertificateLoginChallenge(t *testing.T) {
	backends(t, func(t *testing.T, _ *env) {
		pki := newCertPKI(t)
		e := start(t, false, func(c *config.Config) { pki.configure(t, c) })
		e.addCitizen(t, testNumber, testPassword)
		portal := newCertPortal(t, e)
		leaf := pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber})

		b := stoppingBrowser(t)
		pg, v := portal.begin(b)
		pg = portal.sign(b, pg, leaf, e.URL)
		claims, tok := portal.tokens(pg, v)
		wantACR(t, claims, "urn:citizenid:loa:4", "sc", "hwk", "pin", "mfa")
		if claims[oidc.ClaimCertThumbprint] != certificate.Thumbprint(leaf.Cert) || claims[oidc.ClaimCertSerial] != certificate.SerialHex(leaf.Cert) {
			t.Errorf("certificate claims: got %v / %v, want the certificate's thumbprint and serial",
				claims[oidc.ClaimCertThumbprint], claims[oidc.ClaimCertSerial])
		}
		// The same claims at the userinfo endpoint.
		var info map[string]any
		resp, err := portal.conf.Client(context.Background(), tok).Get(e.URL + "/userinfo")
		if err != nil {
			t.Fatal(err)
		}
		decodeJSON(t, resp, &info)
		if info[oidc.ClaimCertSerial] != certificate.SerialHex(leaf.Cert) {
			t.Errorf("userinfo cert_serial: got %v, want %s", info[oidc.ClaimCertSerial], certificate.SerialHex(leaf.Cert))
		}
		ev := lastCertAudit(t, e)
		if ev.Outcome != "success" || ev.Details["cert_serial"] != certificate.SerialHex(leaf.Cert) || ev.Details["revocation_source"] != "ocsp" {
			t.Errorf("audit: got %+v", ev)
		}

		t.Run("a portal not configured for the scope gets no certificate claims", func(t *testing.T) {
			s := &certPortal{t: t, e: e, conf: &oauth2.Config{ClientID: "plain", ClientSecret: e.addClient(t, clients.Spec{ID: "plain", Name: "Plain", RedirectURIs: []string{cbURL}}),
				RedirectURL: cbURL, Endpoint: portal.conf.Endpoint, Scopes: []string{"openid", oidc.ScopeCertificate}}}
			v := oauth2.GenerateVerifier()
			pg := b.get(s.conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:4")))
			q := portalRedirect(t, pg) // the session already holds level 4
			tok, err := s.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			claims := verifyIDToken(t, e.URL, e.URL+"/keys", tok.Extra("id_token").(string), "plain")
			if _, ok := claims[oidc.ClaimCertSerial]; ok {
				t.Errorf("got cert_serial for a portal without the scope: %v", claims)
			}
		})

		t.Run("replayed token in a new login", func(t *testing.T) {
			b := stoppingBrowser(t)
			pg, _ := portal.begin(b)
			old := nonceRE.FindStringSubmatch(pg.body)[1]
			pg = portal.sign(b, pg, leaf, e.URL)
			portalRedirect(t, pg)
			// An attacker replays the very token in their own login.
			b2 := stoppingBrowser(t)
			pg2, _ := portal.begin(b2)
			a := actionRE.FindStringSubmatch(pg2.body)
			pg2 = b2.post(e.URL+a[1], url.Values{"step": {"certificate"}, "mode": {"challenge"}, "token": {leaf.Token(t, "ES256", e.URL, old)}})
			if pg2.status != http.StatusUnauthorized || !strings.Contains(pg2.body, `role="alert"`) {
				t.Errorf("got %d, want the replay refused on the page", pg2.status)
			}
			if r := lastCertAudit(t, e).Details["reason"]; !strings.Contains(r, "signature does not verify") {
				t.Errorf("audit reason: got %q", r)
			}
		})
	})
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestCertificateRefusals(t *testing.T) {
	pki := newCertPKI(t)
	e := start(t, false, func(c *config.Config) { pki.configure(t, c) })
	e.addCitizen(t, testNumber, testPassword)
	portal := newCertPortal(t, e)
	now := time.Now()
	stranger := certtest.NewRoot(t, "Unknown CA")
	revoked := pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber})
	pki.ocsp.Revoke(revoked.Cert.SerialNumber)
	tests := []struct {
		name   string
		leaf   *certtest.Leaf
		origin string
		msg    string // English message shown
		reason string // audit reason
	}{
		{"revoked", revoked, "", "has been revoked", "certificate revoked (OCSP)"},
		{"expired", pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}),
			"", "has expired", "certificate expired"},
		{"not yet valid", pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber, NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}),
			"", "not valid yet", "certificate not valid before"},
		{"wrong key usage", pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber, KeyUsage: x509.KeyUsageKeyEncipherment}),
			"", "cannot be used to log in", "lacks digitalSignature"},
		{"unknown issuer", stranger.Issue(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber}),
			"", "not issued by a recognised", "unknown issuer"},
		{"no account", pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:012345678901"}),
			"", "not linked to any account", "no account has the certificate"},
		{"another origin", pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber}),
			"https://evil.example", "not valid for this page", "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := stoppingBrowser(t)
			pg, _ := portal.begin(b)
			origin := tt.origin
			if origin == "" {
				origin = e.URL
			}
			m, a := nonceRE.FindStringSubmatch(pg.body), actionRE.FindStringSubmatch(pg.body)
			req, _ := http.NewRequest(http.MethodPost, e.URL+a[1], strings.NewReader(url.Values{"step": {"certificate"}, "mode": {"challenge"},
				"token": {tt.leaf.Token(t, "ES256", origin, m[1])}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("Accept-Language", "en")
			pg = b.do(req)
			if pg.status != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(pg.body), tt.msg) {
				t.Errorf("got %d %.400s, want 401 saying %q", pg.status, pg.body, tt.msg)
			}
			if r := lastCertAudit(t, e).Details["reason"]; !strings.Contains(r, tt.reason) {
				t.Errorf("audit reason: got %q, want %q", r, tt.reason)
			}
		})
	}

	t.Run("OCSP and CRL down", func(t *testing.T) {
		pki := newCertPKI(t)
		pki.crl.SetDown(true) // never downloaded
		e := start(t, false, func(c *config.Config) { pki.configure(t, c) })
		e.addCitizen(t, testNumber, testPassword)
		portal := newCertPortal(t, e)
		pki.ocsp.SetDown(true)
		b := stoppingBrowser(t)
		pg, _ := portal.begin(b)
		m, a := nonceRE.FindStringSubmatch(pg.body), actionRE.FindStringSubmatch(pg.body)
		req, _ := http.NewRequest(http.MethodPost, e.URL+a[1], strings.NewReader(url.Values{"step": {"certificate"}, "mode": {"challenge"},
			"token": {pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber}).Token(t, "ES256", e.URL, m[1])}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Accept-Language", "en")
		pg = b.do(req)
		if pg.status != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(pg.body), "cannot check whether the certificate was revoked") {
			t.Errorf("got %d %.300s, want refused: revocation cannot be checked", pg.status, pg.body)
		}
		ev := lastCertAudit(t, e)
		if !strings.Contains(ev.Details["reason"], "revocation status unavailable") || ev.Details["ocsp_error"] == "" || ev.Details["crl_error"] == "" {
			t.Errorf("audit: got %+v, want unavailable with both failures", ev.Details)
		}
	})
	t.Run("OCSP down, CRL good", func(t *testing.T) {
		pki.ocsp.SetDown(true)
		defer pki.ocsp.SetDown(false)
		b := stoppingBrowser(t)
		pg, v := portal.begin(b)
		pg = portal.sign(b, pg, pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber}), e.URL)
		claims, _ := portal.tokens(pg, v)
		wantACR(t, claims, "urn:citizenid:loa:4", "sc", "hwk", "pin", "mfa")
		if ev := lastCertAudit(t, e); ev.Details["revocation_source"] != "crl" || ev.Details["ocsp_error"] == "" {
			t.Errorf("audit: got %+v, want the CRL's verdict and OCSP's failure", ev.Details)
		}
	})
	t.Run("slow OCSP does not hang the login", func(t *testing.T) {
		pki.ocsp.SetDelay(20 * time.Second)
		defer pki.ocsp.SetDelay(0)
		b := stoppingBrowser(t)
		pg, v := portal.begin(b)
		start := time.Now()
		pg = portal.sign(b, pg, pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber}), e.URL)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("login took %v with a responder that sleeps 20s, want it bounded by the 500ms OCSP timeout", el)
		}
		claims, _ := portal.tokens(pg, v)
		wantACR(t, claims, "urn:citizenid:loa:4", "sc", "hwk", "pin", "mfa")
	})
	t.Run("cached OCSP answer", func(t *testing.T) {
		leaf := pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber})
		for i := range 2 {
			b := stoppingBrowser(t)
			pg, v := portal.begin(b)
			n := pki.ocsp.Requests()
			pg = portal.sign(b, pg, leaf, e.URL)
			portal.tokens(pg, v)
			if i == 1 && pki.ocsp.Requests() != n {
				t.Errorf("second login asked the responder again (%d → %d), want the cached answer", n, pki.ocsp.Requests())
			}
			if src := lastCertAudit(t, e).Details["revocation_source"]; (i == 0 && src != "ocsp") || (i == 1 && src != "ocsp-cache") {
				t.Errorf("login %d: revocation source %q", i+1, src)
			}
		}
	})
}

func TestCertificateLoginTLS(t *testing.T) {
	pki := newCertPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The listener's own server certificate, for "localhost".
	serverCA := certtest.NewRoot(t, "TLS CA")
	serverLeaf := serverCA.Issue(t, certtest.LeafOptions{CommonName: "localhost", DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	certFile := filepath.Join(pki.dir, "listener.pem")
	keyFile := filepath.Join(pki.dir, "listener.key")
	os.WriteFile(certFile, certtest.PEM(serverLeaf.Cert), 0o600)
	os.WriteFile(keyFile, certtest.KeyPEM(t, serverLeaf.Key), 0o600)
	tlsURL := "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	e := start(t, false, func(c *config.Config) {
		pki.configure(t, c)
		c.Certificate.TLS = config.CertificateTLSConfig{URL: tlsURL, Listen: ln.Addr().String(), CertFile: certFile, KeyFile: keyFile,
			Header: "X-Client-Certificate"}
	})
	if e.CertificateTLS == nil || e.CertificateTLS.TLSConfig == nil || e.CertificateTLS.TLSConfig.ClientAuth != tls.RequestClientCert {
		t.Fatalf("got %+v, want a TLS listener that requests a client certificate", e.CertificateTLS)
	}
	srv := httptest.NewUnstartedServer(e.CertificateTLS.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = e.CertificateTLS.TLSConfig
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.addCitizen(t, testNumber, testPassword)
	portal := newCertPortal(t, e)
	leaf := pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber})

	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	browserWith := func(cert *certtest.Leaf) *browser {
		b := stoppingBrowser(t)
		tc := &tls.Config{RootCAs: roots}
		if cert != nil {
			tc.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Cert.Raw, pki.inter.Cert.Raw}, PrivateKey: cert.Key, Leaf: cert.Cert}}
		}
		b.c.Transport = &http.Transport{TLSClientConfig: tc}
		return b
	}

	t.Run("client certificate → level 4", func(t *testing.T) {
		b := browserWith(leaf)
		pg, v := portal.begin(b)
		m := tlsLinkRE.FindAllStringSubmatch(pg.body, -1)
		var link string
		for _, x := range m {
			if x[1] != "" {
				link = html.UnescapeString(x[1])
			}
		}
		if !strings.HasPrefix(link, tlsURL+"/tls/") {
			t.Fatalf("no link to the TLS listener on the page: %.500s", pg.body)
		}
		pg = b.get(link) // the listener sends the browser back to the login page
		if !strings.Contains(pg.body, `data-autosubmit`) || !strings.HasPrefix(pg.url.String(), e.URL+"/login/") {
			t.Fatalf("got %d at %s %.300s, want the login page posting the certificate back", pg.status, pg.url, pg.body)
		}
		a := actionRE.FindStringSubmatch(pg.body)
		h := regexp.MustCompile(`name="handle" value="([^"]+)"`).FindStringSubmatch(pg.body)
		pg = b.post(e.URL+a[1], url.Values{"step": {"certificate"}, "mode": {"tls"}, "handle": {h[1]}})
		claims, _ := portal.tokens(pg, v)
		wantACR(t, claims, "urn:citizenid:loa:4", "sc", "hwk", "mfa")
		if ev := lastCertAudit(t, e); ev.Details["mode"] != "tls" || ev.Outcome != "success" {
			t.Errorf("audit: got %+v", ev)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		b := browserWith(nil)
		pg, _ := portal.begin(b)
		link := html.UnescapeString(regexp.MustCompile(`href="(https://[^"]+/tls/[^"]+)"`).FindStringSubmatch(pg.body)[1])
		pg = b.get(link)
		if pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, `id="cert-back"`) {
			t.Errorf("got %d %.300s, want the no-certificate page with a way back", pg.status, pg.body)
		}
	})
	t.Run("certificate header from an untrusted address is ignored", func(t *testing.T) {
		b := browserWith(nil)
		pg, _ := portal.begin(b)
		link := html.UnescapeString(regexp.MustCompile(`href="(https://[^"]+/tls/[^"]+)"`).FindStringSubmatch(pg.body)[1])
		req, _ := http.NewRequest(http.MethodGet, link, nil)
		req.Header.Set("X-Client-Certificate", url.QueryEscape(string(certtest.PEM(leaf.Cert))))
		pg = b.do(req)
		if pg.status != http.StatusUnauthorized {
			t.Errorf("got %d, want the header ignored (401, no certificate)", pg.status)
		}
	})
}

// TestCertificateBindingOnAccountPage: a citizen logged in at level 4 with
// a certificate that carries their number links an official's certificate
// that does not, and then logs in with it.
func TestCertificateBindingOnAccountPage(t *testing.T) {
	pki := newCertPKI(t)
	e := start(t, false, func(c *config.Config) { pki.configure(t, c) })
	e.addCitizen(t, testNumber, testPassword)
	portal := newCertPortal(t, e)
	personal := pki.leaf(t, certtest.LeafOptions{SerialNumber: "CCCD:" + testNumber})
	official := pki.leaf(t, certtest.LeafOptions{CommonName: "Cán bộ Sở Tư pháp", SerialNumber: "MST:0101234567-001"})

	b := newBrowser(t)
	pg := b.get(e.URL + "/account/security/certificates")
	if !isLoginForm(pg) {
		t.Fatalf("got %d %.300s, want a login first", pg.status, pg.body)
	}
	a := actionRE.FindStringSubmatch(pg.body)
	pg = b.post(e.URL+a[1], url.Values{"step": {"password"}, "use": {"certificate"}})
	pg = portal.sign(b, pg, personal, e.URL)
	if pg.url.Path != "/account/security/certificates" || !strings.Contains(pg.body, `id="cert-none"`) {
		t.Fatalf("got %d at %s %.300s, want the certificates page, empty", pg.status, pg.url, pg.body)
	}
	nonce := nonceRE.FindStringSubmatch(pg.body)[1]
	pg = b.post(e.URL+"/account/security/certificates", url.Values{"name": {"Token cơ quan"},
		"token": {official.Token(t, "ES256", e.URL, nonce)}})
	if !strings.Contains(pg.body, `id="cert-list"`) || !strings.Contains(pg.body, "Token cơ quan") ||
		!strings.Contains(pg.body, certificate.SerialHex(official.Cert)) {
		t.Fatalf("got %d %.500s, want the linked certificate listed", pg.status, pg.body)
	}
	// Linking it again is refused with a message.
	nonce = nonceRE.FindStringSubmatch(pg.body)[1]
	pg = b.post(e.URL+"/account/security/certificates", url.Values{"token": {official.Token(t, "ES256", e.URL, nonce)}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="cert-error"`) {
		t.Errorf("linking twice: got %d, want 422 with a message", pg.status)
	}

	// The official's certificate now logs the citizen in at level 4.
	b2 := stoppingBrowser(t)
	pg, v := portal.begin(b2)
	pg = portal.sign(b2, pg, official, e.URL)
	claims, _ := portal.tokens(pg, v)
	wantACR(t, claims, "urn:citizenid:loa:4", "sc", "hwk", "pin", "mfa")
	if ev := lastCertAudit(t, e); ev.Details["mapped_by"] != "binding" {
		t.Errorf("audit mapped_by: got %q, want binding", ev.Details["mapped_by"])
	}

	// Removed, it no longer does.
	pg = b.get(e.URL + "/account/security/certificates")
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(pg.body)
	pg = b.post(e.URL+"/account/security/certificates/remove", url.Values{"id": {id[1]}})
	if !strings.Contains(pg.body, `id="cert-none"`) {
		t.Fatalf("after removal: got %.300s, want no certificate listed", pg.body)
	}
	b3 := stoppingBrowser(t)
	pg, _ = portal.begin(b3)
	pg = portal.sign(b3, pg, official, e.URL)
	if pg.status != http.StatusUnauthorized {
		t.Errorf("after removal: got %d, want the certificate refused", pg.status)
	}
	evs, _ := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "certificate.bind"})
	if len(evs) != 1 {
		t.Errorf("certificate.bind audit events: got %d, want 1", len(evs))
	}
}
