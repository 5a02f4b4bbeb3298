package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/config"
)

// TestClientTokens registers portals with an access token format and an
// ID token algorithm, and changes one without the other.
func TestClientTokens(t *testing.T) {
	c := newCLI(t)
	add := func(id string, extra ...string) []string {
		return append([]string{"client", "add", "--id", id, "--name", "Cổng thuế", "--redirect-uri", "https://thue.example.vn/cb"}, extra...)
	}
	show := func(t *testing.T, id string, want ...string) {
		t.Helper()
		out := columnSep.ReplaceAllString(c.in(t).ok("", "client", "show", id), " ")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("client show %s: got %q, want it to contain %q", id, out, w)
			}
		}
	}

	c.ok("", add("tax-opaque", "--access-token-format", "opaque", "--id-token-signed-response-alg", "RS256")...)
	show(t, "tax-opaque", "access token format: opaque", "ID token signing algorithm: RS256")
	c.ok("", add("tax-default")...)
	show(t, "tax-default", "access token format: jwt", "ID token signing algorithm: server default")

	refused := []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", add("ref", "--access-token-format", "reference"), "jwt (the default) or opaque"},
		{"an algorithm the server does not publish", add("es", "--id-token-signed-response-alg", "ES256"), "publishes keys for: RS256"},
		{"none", add("none", "--id-token-signed-response-alg", "none"), "publishes keys for: RS256"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c.in(t).fails("", tt.want, tt.args...)
		})
	}
	rows := c.list("client", "list")
	if len(rows) != 2 {
		t.Errorf("client list: got %v, want the two accepted clients only (nothing half-written)", rows)
	}
	if r := find(rows, "ID", "tax-opaque"); len(r) != 1 || r[0]["TOKENS"] != "opaque" {
		t.Errorf("client list tax-opaque: got %v, want TOKENS opaque", r)
	}
	if r := find(rows, "ID", "tax-default"); len(r) != 1 || r[0]["TOKENS"] != "jwt" {
		t.Errorf("client list tax-default: got %v, want TOKENS jwt", r)
	}

	t.Run("update changes only the flag given", func(t *testing.T) {
		c := c.in(t)
		c.ok("", "client", "update", "tax-opaque", "--access-token-format", "jwt")
		show(t, "tax-opaque", "access token format: jwt", "ID token signing algorithm: RS256")
		c.ok("", "client", "update", "tax-opaque", "--access-token-format", "opaque")
		c.ok("", "client", "update", "tax-opaque", "--id-token-signed-response-alg", "")
		show(t, "tax-opaque", "access token format: opaque", "ID token signing algorithm: server default")
		c.fails("", "publishes keys for: RS256", "client", "update", "tax-opaque", "--id-token-signed-response-alg", "EdDSA")
		show(t, "tax-opaque", "access token format: opaque", "ID token signing algorithm: server default")
	})
}

// TestSigningAlgorithms: whatever the configuration, clients may choose
// RS256, which the server always publishes.
func TestSigningAlgorithms(t *testing.T) {
	cfg := config.Default()
	if got := signingAlgorithms(&cfg); !slices.Contains(got, "RS256") {
		t.Errorf("signingAlgorithms(default config): got %v, want RS256 among them", got)
	}
}
