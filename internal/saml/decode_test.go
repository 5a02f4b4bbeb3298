package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/crewjam/saml"
)

const sampleRequest = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-03-14T09:26:53Z" Destination="https://id.example.gov.vn/saml/sso" AssertionConsumerServiceURL="https://legacy.example.gov.vn/saml/acs"><saml:Issuer>https://legacy.example.gov.vn/saml/metadata</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:citizenid:loa:2</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>`

func deflated(b []byte) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestDecode(t *testing.T) {
	bomb := deflated(make([]byte, maxMessageXML+1))
	tests := []struct {
		name    string
		decode  func(string) ([]byte, error)
		encoded string
		want    error
	}{
		{"redirect", decodeRedirect, deflated([]byte(sampleRequest)), nil},
		{"post", decodePost, base64.StdEncoding.EncodeToString([]byte(sampleRequest)), nil},
		{"post with line breaks", decodePost, "\n" + base64.StdEncoding.EncodeToString([]byte(sampleRequest)) + "\r\n", nil},
		{"redirect not base64", decodeRedirect, "!!", errEncoding},
		{"redirect not deflated", decodeRedirect, base64.StdEncoding.EncodeToString([]byte(sampleRequest)), errEncoding},
		{"redirect just over the limit inflated", decodeRedirect, bomb, errTooLarge},
		{"redirect deflate bomb", decodeRedirect, deflated(make([]byte, 50<<20)), errTooLarge},
		{"post too long", decodePost, strings.Repeat("A", maxEncodedMessage+4), errTooLarge},
		{"DTD", decodePost, base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]>` + sampleRequest)), errDTD},
		{"external entity", decodeRedirect, deflated([]byte(`<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`)), errDTD},
		{"undeclared entity", decodePost, base64.StdEncoding.EncodeToString([]byte(`<x>&a;</x>`)), errXML},
		{"processing instruction", decodePost, base64.StdEncoding.EncodeToString([]byte(`<?evil x?><x/>`)), errXML},
		{"two roots", decodePost, base64.StdEncoding.EncodeToString([]byte(`<x/><y/>`)), errXML},
		{"text outside the root", decodePost, base64.StdEncoding.EncodeToString([]byte(`<x/>junk`)), errXML},
		{"deep", decodePost, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40))), errXML},
		{"empty", decodePost, "", errXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.decode(tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if err == nil && string(got) != sampleRequest {
				t.Errorf("got %q, want the request", got)
			}
			if err != nil && !errors.Is(err, errMessage) {
				t.Errorf("error %v does not wrap errMessage", err)
			}
		})
	}
}

// FuzzDecodeAuthnRequest feeds both bindings' decoders anything. They
// never panic, never return more than maxMessageXML bytes, never let a DTD
// through, and what they accept parses as crewjam would parse it without
// panicking; XML they accept survives both encodings unchanged.
func FuzzDecodeAuthnRequest(f *testing.F) {
	f.Add(deflated([]byte(sampleRequest)), []byte(sampleRequest))
	f.Add(base64.StdEncoding.EncodeToString([]byte(sampleRequest)), []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add(deflated(make([]byte, maxMessageXML+1)), []byte(`<x><y z="1"/></x>`))
	f.Add("", []byte(""))
	f.Fuzz(func(t *testing.T, encoded string, raw []byte) {
		for _, decode := range []func(string) ([]byte, error){decodeRedirect, decodePost} {
			out, err := decode(encoded)
			if err != nil {
				if !errors.Is(err, errMessage) {
					t.Fatalf("error %v does not wrap errMessage", err)
				}
				continue
			}
			if len(out) > maxMessageXML {
				t.Fatalf("accepted %d bytes, more than %d", len(out), maxMessageXML)
			}
			if bytes.Contains(bytes.ToUpper(out), []byte("<!DOCTYPE")) || bytes.Contains(bytes.ToUpper(out), []byte("<!ENTITY")) {
				t.Fatalf("accepted a DTD: %q", out)
			}
			var req saml.AuthnRequest
			xml.Unmarshal(out, &req)
		}
		if len(raw) > maxMessageXML || len(raw) > maxEncodedMessage*3/4-4 {
			return
		}
		want := checkXML(raw)
		if got, err := decodePost(base64.StdEncoding.EncodeToString(raw)); !errors.Is(err, want) || (err == nil && !bytes.Equal(got, raw)) {
			t.Fatalf("POST round trip of %q: got %q, %v; want the input, %v", raw, got, err, want)
		}
		if enc := deflated(raw); len(enc) <= maxEncodedMessage {
			if got, err := decodeRedirect(enc); !errors.Is(err, want) || (err == nil && !bytes.Equal(got, raw)) {
				t.Fatalf("Redirect round trip of %q: got %q, %v; want the input, %v", raw, got, err, want)
			}
		}
	})
}
