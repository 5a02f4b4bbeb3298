package saml_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/config"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/server"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of the golden tests.
var fixedNow = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

const (
	spEntityID = "https://legacy.example.gov.vn/saml/metadata"
	citizenNo  = "079201000123"
	password   = "mật khẩu rất dài 2024"
)

// idp is a CitizenID on the embedded default, on a loopback port.
type idp struct {
	*app.Instance
	URL string
}

func startIdP(t *testing.T, now func() time.Time) *idp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.Issuer = "http://" + ln.Addr().String()
	cfg.Server.Addr = ln.Addr().String()
	cfg.Password.MemoryKiB, cfg.Password.Time = 8192, 1
	cfg.Tokens.PairwiseSecret = "golden pairwise secret, thirty-two bytes or more"
	cfg.Log.Level = "error"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	in, err := app.Build(context.Background(), cfg, server.NewLogger(io.Discard, "text", "error"), app.BuildOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(in.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); in.Close() })
	_, err = citizens.Create(context.Background(), in.Store, in.Hasher, citizens.NewCitizen{
		Number: citizenNo, Name: "Trần Thị Bình", Birthdate: "1990-05-17", Password: password,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &idp{Instance: in, URL: cfg.Server.Issuer}
}

func (d *idp) get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// normalise replaces what changes from run to run (keys, IDs, the port,
// signatures) with fixed names, and indents, so a golden file shows
// structure and every fixed value.
func normalise(t *testing.T, doc []byte, issuer string) []byte {
	t.Helper()
	s := strings.ReplaceAll(string(doc), issuer, "http://citizenid.test")
	for _, r := range []struct {
		re   *regexp.Regexp
		repl string
	}{
		{regexp.MustCompile(`<ds:X509Certificate>[^<]+</ds:X509Certificate>`), "<ds:X509Certificate>CERTIFICATE</ds:X509Certificate>"},
		{regexp.MustCompile(`<ds:DigestValue>[^<]+</ds:DigestValue>`), "<ds:DigestValue>DIGEST</ds:DigestValue>"},
		{regexp.MustCompile(`<ds:SignatureValue>[^<]+</ds:SignatureValue>`), "<ds:SignatureValue>SIGNATURE</ds:SignatureValue>"},
		{regexp.MustCompile(`(<ds:X509Certificate>|<X509Certificate[^>]*>)\s*[A-Za-z0-9+/=\s]{100,}\s*(</)`), "${1}CERTIFICATE${2}"},
		{regexp.MustCompile(` ID="[^"]+"`), ` ID="ID"`},
		{regexp.MustCompile(` URI="#[^"]+"`), ` URI="#ID"`},
		{regexp.MustCompile(` SessionIndex="[^"]+"`), ` SessionIndex="SESSION-INDEX"`},
		// Pairwise of a citizen ID that is random: checked for its form.
		{regexp.MustCompile(`(nameid-format:persistent"[^>]*>)[A-Za-z0-9_-]{43}<`), "${1}PAIRWISE-ID<"},
	} {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		t.Fatalf("normalised document does not parse: %v", err)
	}
	d.Indent(2)
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s", name, got)
	}
}

func TestMetadataGolden(t *testing.T) {
	d := startIdP(t, func() time.Time { return fixedNow })
	c := &http.Client{}
	status, body := d.get(t, c, d.URL+"/saml/metadata")
	if status != http.StatusOK {
		t.Fatalf("metadata: got %d", status)
	}
	golden(t, "metadata.golden.xml", normalise(t, []byte(body), d.URL))
}

// TestResponseGolden logs a citizen in for an SP registered from
// testdata metadata and compares the signed response it gets.
func TestResponseGolden(t *testing.T) {
	d := startIdP(t, func() time.Time { return fixedNow })
	md, err := os.ReadFile(filepath.Join("testdata", "sp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = citizensaml.Register(context.Background(), d.Store, citizensaml.SPSpec{
		MetadataXML: md, Attributes: []string{"name", "birthdate", "identity_level"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`+
		` ID="_golden-request" Version="2.0" IssueInstant="%s" Destination="%s/saml/sso"`+
		` AssertionConsumerServiceURL="https://legacy.example.gov.vn/saml/acs" ProtocolBinding="%s">`+
		`<saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`, fixedNow.Format(time.RFC3339), d.URL, saml.HTTPPostBinding, spEntityID)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	status, body := d.get(t, c, d.URL+"/saml/sso?SAMLRequest="+url.QueryEscape(deflate(req)))
	action := regexp.MustCompile(`<form method="post" action="(/login/[^"]+)"`).FindStringSubmatch(body)
	if status != http.StatusOK || action == nil {
		t.Fatalf("AuthnRequest: got %d %.300s, want the login form", status, body)
	}
	resp, err := c.PostForm(d.URL+action[1], url.Values{"number": {citizenNo}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The SP receives name and birthdate: the consent page, approved.
	consent := regexp.MustCompile(`<form method="post" action="(/login/[^"]+)"`).FindSubmatch(page)
	if consent == nil || !bytes.Contains(page, []byte(`id="consent-approve"`)) {
		t.Fatalf("after the password: got %d %.300s, want the consent page", resp.StatusCode, page)
	}
	resp, err = c.PostForm(d.URL+string(consent[1]), url.Values{"step": {"consent"}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("after the login: got %d %.300s, want the SAML form", resp.StatusCode, page)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	var r saml.Response
	if err := xml.Unmarshal(raw, &r); err != nil || r.InResponseTo != "_golden-request" {
		t.Fatalf("response: %v, InResponseTo %q", err, r.InResponseTo)
	}
	golden(t, "response.golden.xml", normalise(t, raw, d.URL))
}

func deflate(s string) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// certificates returns the signing certificates of the metadata, in order.
func certificates(t *testing.T, d *idp) []string {
	t.Helper()
	status, body := d.get(t, &http.Client{}, d.URL+"/saml/metadata")
	if status != http.StatusOK {
		t.Fatalf("metadata: got %d", status)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(body), &ed); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use != "signing" {
			t.Errorf("key descriptor use %q: want signing only", kd.Use)
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			out = append(out, strings.Join(strings.Fields(c.Data), ""))
		}
	}
	return out
}

// The next key's certificate is published before the key signs, and is
// the same bytes once it does: service providers that pinned it keep
// working across the rotation.
func TestKeyRolloverPublishesTheNextCertificateFirst(t *testing.T) {
	d := startIdP(t, time.Now)
	before := certificates(t, d)
	if len(before) != 2 {
		t.Fatalf("certificates before the rotation: got %d, want the active and the next", len(before))
	}
	if again := certificates(t, d); strings.Join(again, ",") != strings.Join(before, ",") {
		t.Error("the metadata changes between two requests: certificates must be stable")
	}
	if _, err := d.Keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := certificates(t, d)
	if len(after) != 3 || after[0] != before[1] || after[2] != before[0] {
		t.Fatalf("after the rotation: want [old next, new next, old active], got %d certificates (first is old next: %v)", len(after), len(after) > 0 && after[0] == before[1])
	}
}
