package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

// selfSigned returns a certificate valid until notAfter, DER.
func selfSigned(t testing.TB, cn string, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// spMetadata is an SP's metadata with HTTP-POST ACS URLs and, when given,
// a signing certificate.
func spMetadata(entityID string, acs []string, cert []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`, entityID)
	if cert != nil {
		fmt.Fprintf(&b, `
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
			base64.StdEncoding.EncodeToString(cert))
	}
	for i, u := range acs {
		fmt.Fprintf(&b, `
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s" index="%d"/>`, u, i)
	}
	b.WriteString(`
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="vi">Cổng bảo hiểm</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="vi">Cổng bảo hiểm xã hội</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="vi">https://bhxh.example.gov.vn/</md:OrganizationURL>
  </md:Organization>
</md:EntityDescriptor>
`)
	return b.String()
}

// postMultipart submits a same-origin multipart form with one file.
func (b *browser) postMultipart(u string, fields url.Values, fileField, fileName string, file []byte) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, fileName)
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	pu, _ := url.Parse(u)
	req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// metadataServer serves whatever metadata is set, slowly when told.
type metadataServer struct {
	srv   *httptest.Server
	body  string
	delay time.Duration
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.delay > 0 {
			select {
			case <-time.After(m.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write([]byte(m.body))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

const spEntity = "https://bhxh.example.gov.vn/saml/metadata"

func spRefOf(entity string) string { return base64.RawURLEncoding.EncodeToString([]byte(entity)) }

// TestAdminSAMLServiceProviders: an rp-manager registers an SP from an
// uploaded file and from a URL, sees its ACS URLs and certificates with
// their expiry, edits the policy, re-fetches the metadata, disables and
// deletes it; bad metadata changes nothing.
func TestAdminSAMLServiceProviders(t *testing.T) {
	e := newAdminEnv(t, false, allowLoopbackMetadata)
	rpm := e.addPerson(rpNumber, false, "rp-manager")
	b, _ := e.adminBrowser(rpm)
	ctx := context.Background()
	expired := selfSigned(t, "old.bhxh.example.gov.vn", e.clk.Now().Add(-24*time.Hour))
	md := spMetadata(spEntity, []string{"https://bhxh.example.gov.vn/saml/acs"}, expired)
	settings := url.Values{"min_level": {"2"}, "nameid_format": {"persistent"}, "attribute": {"name", "identity_level"}}

	// Bad metadata: every problem shown, nothing stored.
	for name, bad := range map[string]string{
		"not xml":     "hello",
		"idp":         `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`,
		"http acs":    spMetadata(spEntity, []string{"http://bhxh.example.gov.vn/saml/acs"}, nil),
		"doctype":     `<!DOCTYPE x [<!ENTITY e "e">]>` + md,
		"no metadata": "",
	} {
		pg := b.postMultipart(e.URL+"/admin/sps", settings, "metadata_file", "sp.xml", []byte(bad))
		if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="error-summary"`) ||
			!strings.Contains(pg.body, `aria-describedby="metadata-hint metadata_file-error" aria-invalid="true"`) {
			t.Errorf("%s: got %d %.300s, want 422 with the problems beside the metadata", name, pg.status, pg.body)
		}
	}
	if list, _ := e.Store.ListServiceProviders(ctx); len(list) != 0 {
		t.Fatalf("after bad metadata: got %d service providers, want none", len(list))
	}
	pg := b.postMultipart(e.URL+"/admin/sps", url.Values{"min_level": {"1"}, "nameid_format": {"persistent"}, "attribute": {"citizen_number"}},
		"metadata_file", "sp.xml", []byte(md))
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, "citizen_number") {
		t.Errorf("citizen number without allowing it: got %d, want 422", pg.status)
	}

	// Upload.
	pg = b.postMultipart(e.URL+"/admin/sps", settings, "metadata_file", "sp.xml", []byte(md))
	if pg.status != http.StatusOK || pg.url.Path != "/admin/sps/"+spRefOf(spEntity) {
		t.Fatalf("register by upload: got %d at %s %.400s", pg.status, pg.url, pg.body)
	}
	for _, want := range []string{"https://bhxh.example.gov.vn/saml/acs", "CN=old.bhxh.example.gov.vn", `class="badge off"`, "Cổng bảo hiểm xã hội"} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("service provider page: want %q, got %.1500s", want, pg.body)
		}
	}
	sp, err := e.Store.ServiceProviderByEntityID(ctx, spEntity)
	if err != nil || sp.MinLevel != 2 || len(sp.Attributes) != 2 {
		t.Fatalf("stored: %+v %v", sp, err)
	}
	if pg := b.postMultipart(e.URL+"/admin/sps", settings, "metadata_file", "sp.xml", []byte(md)); pg.status != http.StatusUnprocessableEntity {
		t.Errorf("register twice: got %d, want 422", pg.status)
	}

	// Edit the policy.
	ref := spRefOf(spEntity)
	pg = b.post(e.URL+"/admin/sps/"+ref, url.Values{"name": {"BHXH"}, "min_level": {"3"}, "nameid_format": {"transient"},
		"attribute": {"name", "birthdate"}, "encrypt_assertions": {"on"}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, "encryption certificate") {
		t.Errorf("encryption without an encryption certificate: got %d %.300s, want 422", pg.status, pg.body)
	}
	pg = b.post(e.URL+"/admin/sps/"+ref, url.Values{"name": {"BHXH"}, "min_level": {"3"}, "nameid_format": {"transient"}, "attribute": {"name", "birthdate"}})
	if !strings.Contains(pg.url.RawQuery, "admin_msg_saved") {
		t.Fatalf("edit: got %d at %s %.300s", pg.status, pg.url, pg.body)
	}
	sp, _ = e.Store.ServiceProviderByEntityID(ctx, spEntity)
	if sp.Name != "BHXH" || sp.MinLevel != 3 || !strings.HasSuffix(sp.NameIDFormat, ":transient") || strings.Join(sp.Attributes, ",") != "name,birthdate" {
		t.Errorf("edited: %+v", sp)
	}

	// Re-fetch from a URL: new ACS URLs and a fresh certificate.
	ms := newMetadataServer(t)
	fresh := selfSigned(t, "new.bhxh.example.gov.vn", e.clk.Now().Add(365*24*time.Hour))
	ms.body = spMetadata(spEntity, []string{"https://bhxh.example.gov.vn/saml/acs2"}, fresh)
	pg = b.postMultipart(e.URL+"/admin/sps/"+ref+"/metadata", url.Values{"metadata_url": {ms.srv.URL}}, "", "", nil)
	if !strings.Contains(pg.body, "saml/acs2") || !strings.Contains(pg.body, "CN=new.bhxh.example.gov.vn") || strings.Contains(pg.body, `class="badge off"`) {
		t.Errorf("after re-fetching: got %d %.1200s", pg.status, pg.body)
	}
	if sp, _ = e.Store.ServiceProviderByEntityID(ctx, spEntity); sp.Name != "BHXH" || sp.MinLevel != 3 {
		t.Errorf("re-fetching lost the policy: %+v", sp)
	}
	ms.body = spMetadata("https://other.example/sp", []string{"https://other.example/acs"}, nil)
	if pg := b.postMultipart(e.URL+"/admin/sps/"+ref+"/metadata", url.Values{"metadata_url": {ms.srv.URL}}, "", "", nil); pg.status != http.StatusUnprocessableEntity {
		t.Errorf("metadata of another entity: got %d, want 422", pg.status)
	}

	// Register from a URL.
	ms.body = spMetadata("https://thue.example.gov.vn/saml", []string{"https://thue.example.gov.vn/acs"}, nil)
	pg = b.postMultipart(e.URL+"/admin/sps", url.Values{"metadata_url": {ms.srv.URL}, "min_level": {"1"}, "nameid_format": {"persistent"}}, "", "", nil)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "https://thue.example.gov.vn/acs") {
		t.Fatalf("register from a URL: got %d %.300s", pg.status, pg.body)
	}
	if pg := b.get(e.URL + "/admin/sps"); !strings.Contains(pg.body, spEntity) || !strings.Contains(pg.body, "https://thue.example.gov.vn/saml") {
		t.Errorf("list: got %.600s", pg.body)
	}

	// Disable (asks first), enable, delete.
	e.confirm(b, b.post(e.URL+"/admin/sps/"+ref+"/disable", url.Values{}))
	if sp, _ = e.Store.ServiceProviderByEntityID(ctx, spEntity); !sp.Disabled {
		t.Error("not disabled")
	}
	b.post(e.URL+"/admin/sps/"+ref+"/enable", url.Values{})
	e.confirm(b, b.post(e.URL+"/admin/sps/"+ref+"/delete", url.Values{}))
	if _, err := e.Store.ServiceProviderByEntityID(ctx, spEntity); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v, want not found", err)
	}
	for _, action := range []string{"sp.create", "sp.update", "sp.metadata", "sp.disable", "sp.enable", "sp.delete"} {
		evs := e.auditEvents(action)
		if len(evs) == 0 || evs[0].Actor != "admin:"+rpm.id || evs[0].Details["roles"] != "rp-manager" {
			t.Errorf("%s audit: got %+v", action, evs)
		}
	}
}

// TestAdminAPIServiceProviders: create, list, read, patch, re-fetch and
// delete through the API; oversized metadata and a metadata URL that times
// out are problems, and nothing is written.
func TestAdminAPIServiceProviders(t *testing.T) {
	e := newAdminEnv(t, false, func(c *config.Config) {
		c.Admin.MetadataTimeout = 300 * time.Millisecond
		allowLoopbackMetadata(c)
	})
	api, _ := e.newAPIClient(t, "rp-bot", []string{"admin:rp-manager"}, nil)
	ctx := context.Background()
	md := spMetadata(spEntity, []string{"https://bhxh.example.gov.vn/saml/acs"}, selfSigned(t, "bhxh", e.clk.Now().Add(time.Hour)))

	r := api.do("POST", "/sps", map[string]any{"metadata_xml": md, "min_level": 2})
	var sp struct {
		Ref          string   `json:"ref"`
		EntityID     string   `json:"entity_id"`
		Name         string   `json:"name"`
		ACSURLs      []string `json:"acs_urls"`
		Attributes   []string `json:"attributes"`
		MinLevel     int      `json:"min_level"`
		Disabled     bool     `json:"disabled"`
		Certificates []struct {
			Subject string `json:"subject"`
			Expired bool   `json:"expired"`
		} `json:"certificates"`
	}
	r.decode(t, &sp)
	if r.status != http.StatusCreated || sp.EntityID != spEntity || sp.Ref != spRefOf(spEntity) || len(sp.ACSURLs) != 1 ||
		sp.MinLevel != 2 || strings.Join(sp.Attributes, ",") != "identity_level" || len(sp.Certificates) != 1 || sp.Certificates[0].Expired {
		t.Fatalf("create: got %d %s", r.status, r.body)
	}
	if r := api.do("POST", "/sps", map[string]any{"metadata_xml": md}); r.status != http.StatusConflict {
		t.Errorf("create twice: got %d, want 409", r.status)
	}
	r = api.do("PATCH", "/sps/"+sp.Ref, map[string]any{"attributes": []string{"name", "citizen_number"}})
	if r.status != http.StatusUnprocessableEntity || r.problem(t)["type"] != "urn:citizenid:problem:validation" {
		t.Errorf("citizen_number without allow: got %d %s, want 422", r.status, r.body)
	}
	r = api.do("PATCH", "/sps/"+sp.Ref, map[string]any{"attributes": []string{"name", "citizen_number"}, "allow_citizen_number": true, "disabled": true})
	r.decode(t, &sp)
	if r.status != http.StatusOK || !sp.Disabled || len(sp.Attributes) != 2 || sp.MinLevel != 2 {
		t.Errorf("patch: got %d %s", r.status, r.body)
	}
	var list struct {
		Items []struct {
			EntityID string `json:"entity_id"`
		} `json:"items"`
	}
	api.do("GET", "/sps", nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].EntityID != spEntity {
		t.Errorf("list: got %+v", list)
	}
	if r := api.do("GET", "/sps/not-base64!", nil); r.status != http.StatusNotFound {
		t.Errorf("bad ref: got %d, want 404", r.status)
	}

	// Oversized metadata is refused before anything is parsed.
	huge := strings.Replace(md, "<md:Organization>", "<!--"+strings.Repeat("x", 1200<<10)+"--><md:Organization>", 1)
	r = api.do("POST", "/sps", map[string]any{"metadata_xml": strings.Replace(huge, spEntity, "https://huge.example/sp", 1)})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized metadata: got %d %.200s, want 413", r.status, r.body)
	} else {
		r.problem(t)
	}
	// A URL serving more than 1 MiB, and one that does not answer in time.
	ms := newMetadataServer(t)
	ms.body = huge
	if r := api.do("POST", "/sps", map[string]any{"metadata_url": ms.srv.URL}); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "larger than") {
		t.Errorf("oversized metadata at a URL: got %d %s, want 422", r.status, r.body)
	}
	slow := newMetadataServer(t)
	slow.body, slow.delay = spMetadata("https://slow.example/sp", []string{"https://slow.example/acs"}, nil), 5*time.Second
	start := time.Now()
	r = api.do("POST", "/sps", map[string]any{"metadata_url": slow.srv.URL})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"field":"metadata_url"`) || time.Since(start) > 3*time.Second {
		t.Errorf("metadata URL timing out: got %d %s after %v, want 422 within the timeout", r.status, r.body, time.Since(start))
	} else {
		r.problem(t)
	}
	if all, _ := e.Store.ListServiceProviders(ctx); len(all) != 1 {
		t.Errorf("after refused registrations: got %d service providers, want 1", len(all))
	}

	// Re-fetch the metadata by URL.
	ms.body = spMetadata(spEntity, []string{"https://bhxh.example.gov.vn/saml/acs2", "https://bhxh.example.gov.vn/saml/acs3"}, nil)
	r = api.do("POST", "/sps/"+sp.Ref+"/metadata", map[string]any{"metadata_url": ms.srv.URL})
	r.decode(t, &sp)
	if r.status != http.StatusOK || len(sp.ACSURLs) != 2 || len(sp.Attributes) != 2 {
		t.Errorf("re-fetch: got %d %s", r.status, r.body)
	}
	if r := api.do("DELETE", "/sps/"+sp.Ref, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: got %d", r.status)
	}
	if r := api.do("GET", "/sps/"+sp.Ref, nil); r.status != http.StatusNotFound {
		t.Errorf("get after delete: got %d, want 404", r.status)
	}
}

// allowLoopbackMetadata lets the console fetch metadata from the test's
// own servers on 127.0.0.1, as an operator names internal SP hosts.
func allowLoopbackMetadata(c *config.Config) { c.SAML.MetadataAllowedHosts = []string{"127.0.0.1"} }
