package oidc

import (
	"net/url"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

func TestRedirectURIAllowed(t *testing.T) {
	web := &store.Client{RedirectURIs: []string{"https://thue.example.vn/cb", "http://127.0.0.1:8080/cb"}}
	native := &store.Client{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb", "vn.gov.app:/cb"}}
	tests := []struct {
		name string
		c    *store.Client
		uri  string
		want bool
	}{
		{"exact", web, "https://thue.example.vn/cb", true},
		{"exact loopback with port", web, "http://127.0.0.1:8080/cb", true},
		{"other port for a web client", web, "http://127.0.0.1:8081/cb", false},
		{"trailing slash", web, "https://thue.example.vn/cb/", false},
		{"query added", web, "https://thue.example.vn/cb?x=1", false},
		{"case differs", web, "https://THUE.example.vn/cb", false},
		{"userinfo trick", web, "https://thue.example.vn/cb@evil.example", false},
		{"empty", web, "", false},
		{"native loopback any port", native, "http://127.0.0.1:53121/cb", true},
		{"native loopback other path", native, "http://127.0.0.1:53121/other", false},
		{"native localhost name", native, "http://localhost:53121/cb", false},
		{"native custom scheme exact", native, "vn.gov.app:/cb", true},
		{"native https not registered", native, "https://127.0.0.1/cb", false},
		{"native loopback with fragment", native, "http://127.0.0.1:1/cb#x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedirectURIAllowed(tt.c, tt.uri); got != tt.want {
				t.Errorf("RedirectURIAllowed(%q): got %v, want %v", tt.uri, got, tt.want)
			}
		})
	}
}

// FuzzRedirectURIAllowed: whatever the input, a URI is allowed only when it
// is registered, or, for a public client, a registered loopback URI with
// only the port changed.
func FuzzRedirectURIAllowed(f *testing.F) {
	for _, s := range []string{"https://thue.example.vn/cb", "http://127.0.0.1:5/cb", "http://127.0.0.1:5/cb?x", "http://[::1]:5/cb", "http://127.0.0.1%25en0/cb", "vn.gov.app:/cb", "\x00", "http://127.0.0.1:99999999/cb"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, uri string, public bool) {
		c := &store.Client{Public: public, RedirectURIs: []string{"https://thue.example.vn/cb", "http://127.0.0.1/cb", "http://[::1]/cb"}}
		if !RedirectURIAllowed(c, uri) {
			return
		}
		for _, r := range c.RedirectURIs {
			if r == uri {
				return
			}
		}
		if !public {
			t.Fatalf("confidential client: %q allowed but not registered", uri)
		}
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "http" || u.Path != "/cb" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("public client: %q allowed but is not a registered loopback URI with another port", uri)
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "::1" {
			t.Fatalf("public client: %q allowed with host %q", uri, h)
		}
		if strings.ContainsAny(uri, "#@\\") {
			t.Fatalf("public client: %q allowed with suspicious characters", uri)
		}
	})
}
