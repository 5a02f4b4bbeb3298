package config

import (
	"slices"
	"testing"
	"time"
)

func TestWebAuthnRP(t *testing.T) {
	tests := []struct {
		name        string
		issuer      string
		rpID        string
		origins     []string
		wantID      string
		wantOrigins []string
		wantOK      bool
	}{
		{"issuer host", "https://id.example.gov", "", nil, "id.example.gov", []string{"https://id.example.gov"}, true},
		{"dev localhost with port", "http://localhost:8080", "", nil, "localhost", []string{"http://localhost:8080"}, true},
		{"parent domain and portals", "https://id.example.gov", "example.gov", []string{"https://thue.example.gov", "https://id.example.gov"},
			"example.gov", []string{"https://id.example.gov", "https://thue.example.gov"}, true},
		{"IP issuer: off", "http://127.0.0.1:8080", "", nil, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Server.Issuer, c.WebAuthn.RPID, c.WebAuthn.Origins = tt.issuer, tt.rpID, tt.origins
			id, origins, ok := c.WebAuthnRP()
			if id != tt.wantID || !slices.Equal(origins, tt.wantOrigins) || ok != tt.wantOK {
				t.Errorf("got %q %v %v, want %q %v %v", id, origins, ok, tt.wantID, tt.wantOrigins, tt.wantOK)
			}
		})
	}
}

func TestValidateWebAuthn(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(c *Config)
		want  string // "" valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"parent domain", func(c *Config) { c.WebAuthn.RPID = "example.gov" }, ""},
		{"portal origins", func(c *Config) {
			c.WebAuthn.RPID = "example.gov"
			c.WebAuthn.Origins = []string{"https://thue.example.gov", "https://bhxh.example.gov:8443"}
		}, ""},
		{"attestation with allow-list", func(c *Config) {
			c.WebAuthn.Attestation = "direct"
			c.WebAuthn.AllowedAAGUIDs = []string{"adce0002-35bc-c60a-648b-0b25f1f05503"}
		}, ""},
		{"unrelated RP ID", func(c *Config) { c.WebAuthn.RPID = "other.gov" }, "webauthn.rp_id"},
		{"IP RP ID", func(c *Config) { c.WebAuthn.RPID = "10.0.0.1" }, "webauthn.rp_id"},
		{"RP ID with scheme", func(c *Config) { c.WebAuthn.RPID = "https://id.example.gov" }, "webauthn.rp_id"},
		{"RP ID in capitals", func(c *Config) { c.WebAuthn.RPID = "Example.gov" }, "webauthn.rp_id"},
		{"origin outside the RP ID", func(c *Config) { c.WebAuthn.Origins = []string{"https://portal.example.gov"} }, "webauthn.origins"},
		{"origin with a path", func(c *Config) { c.WebAuthn.Origins = []string{"https://id.example.gov/login"} }, "webauthn.origins"},
		{"plain http origin in production", func(c *Config) { c.WebAuthn.Origins = []string{"http://id.example.gov"} }, "webauthn.origins"},
		{"not an origin", func(c *Config) { c.WebAuthn.Origins = []string{"id.example.gov"} }, "webauthn.origins"},
		{"attestation", func(c *Config) { c.WebAuthn.Attestation = "enterprise" }, "webauthn.attestation"},
		{"allow-list without attestation", func(c *Config) {
			c.WebAuthn.AllowedAAGUIDs = []string{"adce0002-35bc-c60a-648b-0b25f1f05503"}
		}, "webauthn.allowed_aaguids"},
		{"not a UUID", func(c *Config) {
			c.WebAuthn.Attestation = "direct"
			c.WebAuthn.AllowedAAGUIDs = []string{"yubikey"}
		}, "webauthn.allowed_aaguids"},
		{"no timeout", func(c *Config) { c.WebAuthn.CeremonyTimeout = 0 }, "webauthn.ceremony_timeout"},
		{"timeout beyond the login", func(c *Config) { c.WebAuthn.CeremonyTimeout = c.Session.LoginTimeout + time.Second }, "webauthn.ceremony_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := production()
			tt.tweak(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			wantErrs(t, err, tt.want)
		})
	}
	t.Run("http localhost origin in dev", func(t *testing.T) {
		c := Default()
		c.WebAuthn.Origins = []string{"http://localhost:3000"}
		if err := c.Validate(); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

func TestParseWebAuthn(t *testing.T) {
	c := Default()
	err := Parse([]byte("webauthn:\n  rp_id: localhost\n  origins: [http://localhost:3000]\n  attestation: direct\n  allowed_aaguids: [adce0002-35bc-c60a-648b-0b25f1f05503]\n  ceremony_timeout: 2m\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	w := c.WebAuthn
	if w.RPID != "localhost" || len(w.Origins) != 1 || w.Attestation != "direct" || len(w.AllowedAAGUIDs) != 1 ||
		w.CeremonyTimeout != 2*time.Minute || w.RPDisplayName != "CitizenID" {
		t.Errorf("parsed: got %+v", w)
	}
	if err := Parse([]byte("webauthn:\n  rpid: x\n"), &c); err == nil {
		t.Errorf("unknown key: got nil error, want one")
	}
}
