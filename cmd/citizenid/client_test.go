package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// portalKeys writes the portal's key set as a file: public, or private by
// mistake.
func portalKeys(t *testing.T, key *ecdsa.PrivateKey, kid string, private bool) (path, body string) {
	t.Helper()
	var k any = key.Public()
	if private {
		k = key
	}
	b, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), kid+".jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// TestClientKeys registers and edits portals that authenticate with their
// keys, from files, standard input and a JWKS URI.
func TestClientKeys(t *testing.T) {
	c := newCLI(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubFile, pubJSON := portalKeys(t, key, "thue-2026", false)
	privFile, _ := portalKeys(t, key, "oops", true)
	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, rotatedJSON := portalKeys(t, rotated, "thue-2027", false)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write([]byte(rotatedJSON))
	}))
	defer portal.Close()
	add := func(id string, extra ...string) []string {
		return append([]string{"client", "add", "--id", id, "--name", "Cổng thuế", "--redirect-uri", "https://thue.example.vn/cb"}, extra...)
	}
	show := func(t *testing.T, id string, want ...string) {
		t.Helper()
		out := c.in(t).ok("", "client", "show", id)
		out = columnSep.ReplaceAllString(out, " ") // "require PAR: true", whatever the alignment
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("client show %s: got %q, want it to contain %q", id, out, w)
			}
		}
		if strings.Contains(out, "BEGIN") || strings.Contains(out, `"d"`) {
			t.Errorf("client show %s: got %q, want no key material", id, out)
		}
	}

	t.Run("private_key_jwt from a file", func(t *testing.T) {
		out := c.in(t).ok("", add("tax-keys", "--token-endpoint-auth-method", "private_key_jwt", "--jwks", pubFile)...)
		if strings.Contains(out, "client secret") || !strings.Contains(out, "no secret") {
			t.Errorf("client add: got %q, want no secret and a note that there is none", out)
		}
		show(t, "tax-keys", "private_key_jwt", "thue-2026", "ES256", "EC P-256")
	})
	t.Run("JWKS from standard input", func(t *testing.T) {
		c.in(t).ok(pubJSON, add("tax-stdin", "--token-endpoint-auth-method", "private_key_jwt", "--jwks", "-")...)
		show(t, "tax-stdin", "thue-2026")
	})
	t.Run("fapi2 with a JWKS URI", func(t *testing.T) {
		c.in(t).ok("", add("tax-fapi", "--profile", "fapi2", "--jwks-uri", portal.URL+"/jwks", "--access-token-audience", "https://api.thue.example.vn")...)
		show(t, "tax-fapi", "fapi2", "private_key_jwt", "require PAR: true", "require DPoP: true",
			"https://api.thue.example.vn", portal.URL+"/jwks", "thue-2027")
	})

	refused := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"a private key", "", add("priv", "--token-endpoint-auth-method", "private_key_jwt", "--jwks", privFile), "private key"},
		{"private_key_jwt without keys", "", add("nokeys", "--token-endpoint-auth-method", "private_key_jwt"), "needs the client's public keys"},
		{"both sources", "", add("both", "--jwks", pubFile, "--jwks-uri", portal.URL+"/jwks"), "not both"},
		{"a JWKS URI that is not found", "", add("404", "--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", portal.URL+"/nothing"), "HTTP 404"},
		{"a JWKS URI over http", "", add("http", "--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", "http://thue.example.vn/jwks"), "https"},
		{"fapi2 with a secret", "", add("fapi-secret", "--profile", "fapi2", "--token-endpoint-auth-method", "client_secret_basic", "--jwks", pubFile), "fapi2 profile needs private_key_jwt"},
		{"fapi2 public", "", add("fapi-public", "--profile", "fapi2", "--public"), "confidential clients only"},
		{"unknown profile", "", add("fapi1", "--profile", "fapi1"), "fapi2"},
		{"bad audience", "", add("aud", "--access-token-audience", "thue-api"), "URN"},
		{"missing file", "", add("nofile", "--jwks", filepath.Join(t.TempDir(), "missing.json")), "no such file"},
		{"secret and jwks on stdin", "x", add("stdin2", "--jwks", "-", "--secret-stdin"), "both read standard input"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c.in(t).fails(tt.stdin, tt.want, tt.args...)
		})
	}
	rows := c.list("client", "list")
	if len(rows) != 3 {
		t.Errorf("client list: got %v, want the three accepted clients only (nothing half-written)", rows)
	}
	if r := find(rows, "ID", "tax-fapi"); len(r) != 1 || r[0]["AUTH"] != "private_key_jwt" || r[0]["PROFILE"] != "fapi2" {
		t.Errorf("client list tax-fapi: got %v, want AUTH private_key_jwt, PROFILE fapi2", r)
	}

	t.Run("update", func(t *testing.T) {
		c := c.in(t)
		c.ok("", add("land")...)
		c.fails("", "needs the client's public keys", "client", "update", "land", "--token-endpoint-auth-method", "private_key_jwt")
		c.ok("", "client", "update", "land", "--token-endpoint-auth-method", "private_key_jwt", "--jwks", pubFile, "--require-par")
		show(t, "land", "private_key_jwt", "thue-2026", "require PAR: true", "require DPoP: false")
		// A JWKS URI replaces the stored JWKS.
		c.ok("", "client", "update", "land", "--jwks-uri", portal.URL+"/jwks")
		show(t, "land", portal.URL+"/jwks", "thue-2027")
		c.fails("", "HTTP 404", "client", "update", "land", "--jwks-uri", portal.URL+"/gone")
		show(t, "land", portal.URL+"/jwks")
		c.ok("", "client", "update", "land", "--profile", "fapi2")
		show(t, "land", "fapi2", "require DPoP: true")
		// Back to a secret: allowed, and the operator is told it has none yet.
		if out := c.ok("", "client", "update", "land", "--profile", "", "--token-endpoint-auth-method", "client_secret_basic"); !strings.Contains(out, "no secret yet") {
			t.Errorf("back to client_secret_basic: got %q, want a note that the client has no secret", out)
		}
	})
}
