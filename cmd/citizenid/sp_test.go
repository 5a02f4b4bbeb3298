package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// spMetadataXML is an SP's metadata with one HTTP-POST ACS.
func spMetadataXML(entityID, acs string) string {
	return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0"/>
  </md:SPSSODescriptor>
  <md:Organization><md:OrganizationName xml:lang="vi">Cổng cũ</md:OrganizationName><md:OrganizationDisplayName xml:lang="vi">Cổng cũ</md:OrganizationDisplayName><md:OrganizationURL xml:lang="vi">https://cu.example.vn/</md:OrganizationURL></md:Organization>
</md:EntityDescriptor>`
}

func TestSP(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sp.xml")
	if err := os.WriteFile(file, []byte(spMetadataXML("https://cu.example.vn/saml", "https://cu.example.vn/saml/acs")), 0o600); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(spMetadataXML("https://moi.example.vn/saml", "https://moi.example.vn/saml/acs")))
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat(" ", 2<<20)))
	})
	mux.HandleFunc("/gone", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// An internal address is refused unless the configuration names it.
	if _, _, err := c.run("", "sp", "add", "--metadata", srv.URL+"/metadata"); err == nil || !strings.Contains(err.Error(), "internal address") {
		t.Fatalf("metadata from 127.0.0.1 without metadata_allowed_hosts: got %v, want refused", err)
	}
	if err := os.WriteFile(c.config, []byte(cheapConfig+"saml: {metadata_allowed_hosts: [127.0.0.1]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out := c.ok("", "sp", "add", "--metadata", file, "--min-level", "2", "--attributes", "name,identity_level,citizen_number",
		"--allow-citizen-number", "--idp-initiated")
	if !strings.Contains(out, "registered service provider https://cu.example.vn/saml (Cổng cũ)") || !strings.Contains(out, "/saml/metadata") {
		t.Errorf("sp add: got %q", out)
	}
	c.ok("", "sp", "add", "--metadata", srv.URL+"/metadata", "--name", "Cổng mới", "--nameid-format", "transient")

	refused := []struct {
		name string
		args []string
		want string
	}{
		{"same entity ID", []string{"--metadata", file}, "registered already"},
		{"citizen number without permission", []string{"--metadata", srv.URL + "/metadata", "--attributes", "citizen_number"}, "allow-citizen-number"},
		{"too large from a URL", []string{"--metadata", srv.URL + "/huge"}, "larger than"},
		{"not found at the URL", []string{"--metadata", srv.URL + "/gone"}, "404"},
		{"no such file", []string{"--metadata", filepath.Join(dir, "nope.xml")}, "no such file"},
		{"encrypt without a certificate", []string{"--metadata", file, "--encrypt"}, "encryption certificate"},
		{"no metadata", nil, "metadata"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c.in(t).fails("", tt.want, append([]string{"sp", "add"}, tt.args...)...)
		})
	}

	rows := c.list("sp", "list")
	if len(rows) != 2 {
		t.Fatalf("sp list: got %v, want 2 rows", rows)
	}
	old := find(rows, "ENTITY ID", "https://cu.example.vn/saml")
	if len(old) != 1 || old[0]["MIN LEVEL"] != "2" || old[0]["NAMEID"] != "persistent" ||
		old[0]["ATTRIBUTES"] != "name,identity_level,citizen_number" || old[0]["OPTIONS"] != "citizen-number,idp-initiated" ||
		old[0]["ACS"] != "https://cu.example.vn/saml/acs" {
		t.Errorf("sp list: got %v", old)
	}
	if n := find(rows, "ENTITY ID", "https://moi.example.vn/saml"); len(n) != 1 || n[0]["NAME"] != "Cổng mới" || n[0]["NAMEID"] != "transient" ||
		n[0]["ATTRIBUTES"] != "identity_level" {
		t.Errorf("sp list: got %v", n)
	}

	if out := c.ok("", "sp", "remove", "https://cu.example.vn/saml"); !strings.Contains(out, "removed service provider") {
		t.Errorf("sp remove: got %q", out)
	}
	c.fails("", `no service provider "https://cu.example.vn/saml"`, "sp", "remove", "https://cu.example.vn/saml")
	if rows := c.list("sp", "list"); len(rows) != 1 {
		t.Errorf("sp list after remove: got %v", rows)
	}
}
