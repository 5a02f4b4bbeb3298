package app_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

func deflateBase64(b []byte) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// redirectRequest is an AuthnRequest of sp with the HTTP-Redirect binding,
// changed by edit, signed as sp signs.
func redirectRequest(t *testing.T, sp *saml.ServiceProvider, edit func(*saml.AuthnRequest)) string {
	t.Helper()
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	u, err := req.Redirect("", sp)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// Requests CitizenID must refuse before anyone logs in: each gets an error
// page, never a login form or a response to an address the request names.
func TestSAMLBadInput(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", nil, nil)
	signing := newSAMLPortal(t, e, "Cổng ký", func(o *samlsp.Options) { o.SignRequest = true },
		func(s *citizensaml.SPSpec) { s.RequireSignedRequests = true })
	stranger, err := samlsp.New(samlsp.Options{URL: *mustURL(t, "http://127.0.0.1:9/"), IDPMetadata: idpMetadata(t, e)})
	if err != nil {
		t.Fatal(err)
	}
	unsigned := signing.mw.ServiceProvider
	unsigned.SignatureMethod = ""
	sha1 := signing.mw.ServiceProvider
	sha1.SignatureMethod = dsig.RSASHA1SignatureMethod
	sso := e.URL + "/saml/sso?SAMLRequest="
	valid := func() []byte {
		req, err := p.mw.ServiceProvider.MakeAuthenticationRequest(e.URL+"/saml/sso", saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := xmlString(req.Element())
		return b
	}
	post := func(value string) func(b *browser) page {
		return func(b *browser) page {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/saml/sso", strings.NewReader(url.Values{"SAMLRequest": {value}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", "en")
			req.Header.Set("Origin", p.srv.URL)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			return b.do(req)
		}
	}
	get := func(u string) func(b *browser) page { return func(b *browser) page { return b.getEN(u) } }
	const (
		notRegistered = "not registered with CitizenID"
		badReturn     = "return address the service asked for is not registered"
		badSignature  = "does not carry a valid signature"
		notValid      = "not valid or has expired"
	)
	dtd := strings.Replace(string(valid()), "<samlp:AuthnRequest",
		`<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><samlp:AuthnRequest`, 1)
	tests := []struct {
		name string
		do   func(b *browser) page
		want string
	}{
		{"unknown service provider", get(redirectRequest(t, &stranger.ServiceProvider, nil)), notRegistered},
		{"ACS URL not in the metadata", get(redirectRequest(t, &p.mw.ServiceProvider, func(r *saml.AuthnRequest) {
			r.AssertionConsumerServiceURL = "http://127.0.0.1:9/evil/acs"
		})), badReturn},
		{"unsigned where signing is required", get(redirectRequest(t, &unsigned, nil)), badSignature},
		{"SHA-1 signature", get(redirectRequest(t, &sha1, nil)), badSignature},
		{"signature of another key", get(strings.Replace(redirectRequest(t, &signing.mw.ServiceProvider, nil), "Signature=", "Signature=AAAA", 1)), badSignature},
		{"expired", get(redirectRequest(t, &p.mw.ServiceProvider, func(r *saml.AuthnRequest) {
			r.IssueInstant = time.Now().Add(-10 * time.Minute)
		})), notValid},
		{"not base64", get(sso + "%21%21%21"), notValid},
		{"not deflated", get(sso + url.QueryEscape(base64.StdEncoding.EncodeToString(valid()))), notValid},
		{"malformed XML", get(sso + url.QueryEscape(deflateBase64([]byte("<samlp:AuthnRequest ID=")))), notValid},
		{"deflate bomb", get(sso + url.QueryEscape(deflateBase64(make([]byte, 20<<20)))), notValid},
		{"oversized (POST)", post(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{' '}, 40<<10))), notValid},
		{"POST not base64", post("<samlp:AuthnRequest/>"), notValid},
		{"DTD with entities (Redirect)", get(sso + url.QueryEscape(deflateBase64([]byte(dtd)))), notValid},
		{"DTD with entities (POST)", post(base64.StdEncoding.EncodeToString([]byte(dtd))), notValid},
		{"two SAMLRequests", get(sso + "a&SAMLRequest=b"), notValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			b.stop = func(*url.URL) bool { return true }
			pg := tt.do(b)
			if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, tt.want) {
				t.Errorf("got %d %q, want 400 with %q", pg.status, between(pg.body, `role="alert">`, "<"), tt.want)
			}
			if loc := pg.header.Get("Location"); loc != "" {
				t.Errorf("got a redirect to %s, want an error page", loc)
			}
			if b.hasSession(e) {
				t.Error("a refused request logged someone in")
			}
		})
	}

	// The same portal signing with SHA-256 is accepted: SHA-1 is what was refused.
	t.Run("control: SHA-256 signature", func(t *testing.T) {
		if pg := newBrowser(t).get(redirectRequest(t, &signing.mw.ServiceProvider, nil)); !isLoginForm(pg) {
			t.Fatalf("got %d %.300s, want the login form", pg.status, pg.body)
		}
		events, err := e.Store.ListAudit(context.Background(), store.AuditFilter{Action: "saml.authn_request", Target: "sp:" + signing.entityID})
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, ev := range events {
			reasons = append(reasons, ev.Details["reason"])
		}
		if !slices.Contains(reasons, "signature algorithm") || !slices.Contains(reasons, "signature") {
			t.Errorf("audited refusals of the signing portal: got %v, want the SHA-1 one among them", reasons)
		}
	})

	t.Run("replayed request ID", func(t *testing.T) {
		u := redirectRequest(t, &p.mw.ServiceProvider, nil)
		b := newBrowser(t)
		if pg := b.get(u); !isLoginForm(pg) {
			t.Fatalf("first use: got %d %.200s, want the login form", pg.status, pg.body)
		}
		pg := b.getEN(u)
		if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "already used") {
			t.Errorf("replay: got %d %.300s, want 400 already used", pg.status, pg.body)
		}
		// Also from another browser, and with the HTTP-POST binding.
		b2 := newBrowser(t)
		q, _ := url.Parse(u)
		xml, _ := inflate(q.Query().Get("SAMLRequest"))
		if pg := post(base64.StdEncoding.EncodeToString(xml))(b2); pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "already used") {
			t.Errorf("replay with POST: got %d %.300s, want 400 already used", pg.status, pg.body)
		}
	})
}

func inflate(b64 string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = out.ReadFrom(flate.NewReader(bytes.NewReader(b)))
	return out.Bytes(), err
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return s[:min(len(s), 200)]
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func xmlString(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	return doc.WriteToBytes()
}
