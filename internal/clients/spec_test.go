package clients

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func validInput() Spec {
	in := Spec{ID: "tax-portal", Name: "Cổng thuế", RedirectURIs: []string{"https://thue.example.gov.vn/cb"}}
	in.Normalize()
	return in
}

func TestSpecValidate(t *testing.T) {
	existing := &store.Client{ID: "tax-portal", SubjectType: "pairwise", SectorIdentifier: "thue"}
	tests := []struct {
		name     string
		change   func(*Spec)
		existing *store.Client
		fields   []string // fields with problems; none means valid
	}{
		{"valid", func(*Spec) {}, nil, nil},
		{"loopback http", func(in *Spec) { in.RedirectURIs = []string{"http://127.0.0.1:8080/cb", "http://[::1]/cb"} }, nil, nil},
		{"native scheme for public", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod = true, "none"
			in.RedirectURIs = []string{"vn.gov.thue.app:/cb"}
		}, nil, nil},
		{"everything set", func(in *Spec) {
			in.LogoURL, in.Scopes, in.SectorIdentifier = "https://thue.example.gov.vn/l.png", []string{"citizen_number"}, "thue.example.gov.vn"
			in.MinLevel, in.MaxAuthAge, in.AccessTokenLifetime, in.RefreshTokenLifetime, in.IDTokenLifetime = 4, time.Hour, 5*time.Minute, 720*time.Hour, time.Hour
			in.TokenEndpointAuthMethod = "client_secret_post"
		}, nil, nil},
		{"bad id", func(in *Spec) { in.ID = "Tax Portal" }, nil, []string{"id"}},
		{"id ignored when editing", func(in *Spec) { in.ID = "Tax Portal"; in.SectorIdentifier = "thue" }, existing, nil},
		{"no name", func(in *Spec) { in.Name = "" }, nil, []string{"name"}},
		{"long name", func(in *Spec) { in.Name = strings.Repeat("ê", 201) }, nil, []string{"name"}},
		{"http logo", func(in *Spec) { in.LogoURL = "http://thue.example.gov.vn/l.png" }, nil, []string{"logo_url"}},
		{"no redirect", func(in *Spec) { in.RedirectURIs = nil }, nil, []string{"redirect_uris"}},
		{"wildcard", func(in *Spec) { in.RedirectURIs = []string{"https://*.example.gov.vn/cb"} }, nil, []string{"redirect_uris"}},
		{"wildcard path", func(in *Spec) { in.RedirectURIs = []string{"https://thue.example.gov.vn/*"} }, nil, []string{"redirect_uris"}},
		{"fragment", func(in *Spec) { in.RedirectURIs = []string{"https://thue.example.gov.vn/cb#x"} }, nil, []string{"redirect_uris"}},
		{"http not loopback", func(in *Spec) { in.RedirectURIs = []string{"http://thue.example.gov.vn/cb"} }, nil, []string{"redirect_uris"}},
		{"relative", func(in *Spec) { in.RedirectURIs = []string{"/cb"} }, nil, []string{"redirect_uris"}},
		{"credentials", func(in *Spec) { in.RedirectURIs = []string{"https://u:p@thue.example.gov.vn/cb"} }, nil, []string{"redirect_uris"}},
		{"custom scheme confidential", func(in *Spec) { in.RedirectURIs = []string{"vn.gov.thue.app:/cb"} }, nil, []string{"redirect_uris"}},
		{"duplicate", func(in *Spec) { in.RedirectURIs = []string{"https://a.example/cb", "https://a.example/cb"} }, nil, []string{"redirect_uris"}},
		{"too many", func(in *Spec) {
			in.RedirectURIs = nil
			for i := range 21 {
				in.RedirectURIs = append(in.RedirectURIs, fmt.Sprintf("https://a.example/cb%d", i))
			}
		}, nil, []string{"redirect_uris"}},
		{"bad post-logout", func(in *Spec) { in.PostLogoutRedirectURIs = []string{"https://*.example/"} }, nil, []string{"post_logout_redirect_uris"}},
		{"public with basic", func(in *Spec) { in.Public = true; in.TokenEndpointAuthMethod = "client_secret_basic" }, nil, []string{"token_endpoint_auth_method"}},
		{"confidential with none", func(in *Spec) { in.TokenEndpointAuthMethod = "none" }, nil, []string{"token_endpoint_auth_method"}},
		{"unknown scope", func(in *Spec) { in.Scopes = []string{"admin:owner"} }, nil, []string{"scopes"}},
		{"certificate scope", func(in *Spec) { in.Scopes = []string{"certificate", "citizen_number"} }, nil, nil},
		{"bad subject type", func(in *Spec) { in.SubjectType = "random" }, nil, []string{"subject_type"}},
		{"sector with public subjects", func(in *Spec) { in.SubjectType, in.SectorIdentifier = "public", "thue" }, nil, []string{"sector_identifier"}},
		{"sector with spaces", func(in *Spec) { in.SectorIdentifier = "thue portal" }, nil, []string{"sector_identifier"}},
		{"level 5", func(in *Spec) { in.MinLevel = 5 }, nil, []string{"min_level"}},
		{"legal basis", func(in *Spec) { in.LegalBasis = "Luật Quản lý thuế 2019, Điều 17" }, nil, nil},
		{"long legal basis", func(in *Spec) { in.LegalBasis = strings.Repeat("ê", 501) }, nil, []string{"legal_basis"}},
		{"legal basis on two lines", func(in *Spec) { in.LegalBasis = "Luật\nthuế" }, nil, []string{"legal_basis"}},
		{"negative age", func(in *Spec) { in.MaxAuthAge = -time.Second }, nil, []string{"max_auth_age"}},
		{"short lifetime", func(in *Spec) { in.AccessTokenLifetime = time.Second }, nil, []string{"access_token_lifetime"}},
		{"long refresh", func(in *Spec) { in.RefreshTokenLifetime = 91 * 24 * time.Hour }, nil, []string{"refresh_token_lifetime"}},
		{"sector changes", func(in *Spec) { in.SectorIdentifier = "other" }, existing, []string{"subject_type"}},
		{"own secret", func(in *Spec) { in.Secret = strings.Repeat("s", MinSecretLength) }, nil, nil},
		{"short secret", func(in *Spec) { in.Secret = "short" }, nil, []string{"secret"}},
		{"secret for a public client", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod, in.Secret = true, "none", strings.Repeat("s", MinSecretLength)
		}, nil, []string{"secret"}},
		{"secret when editing", func(in *Spec) { in.SectorIdentifier, in.Secret = "thue", strings.Repeat("s", MinSecretLength) }, existing, []string{"secret"}},
		{"becomes public", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod, in.SectorIdentifier = true, "none", "thue"
		}, existing, []string{"subject_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			var got []string
			for _, e := range in.Validate(tt.existing, nil) {
				if !slices.Contains(got, e.Field) {
					got = append(got, e.Field)
				}
				if e.Key == "" || e.Detail == "" {
					t.Errorf("field error %+v: want a message key and a detail", e)
				}
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields with problems: got %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://thue.example.vn/cb", false, true},
		{"http://127.0.0.1:9000/cb", false, true},
		{"http://localhost/cb", false, true},
		{"http://thue.example.vn/cb", false, false},
		{"https://*.example.vn/cb", false, false},
		{"https://thue.example.vn/cb#frag", false, false},
		{"https://user:pw@thue.example.vn/cb", false, false},
		{"/cb", false, false},
		{"vn.gov.app:/cb", false, false},
		{"vn.gov.app:/cb", true, true},
		{"myapp:/cb", true, false},
		{"javascript:alert(1)", true, false},
		{"", false, false},
	}
	for _, tt := range tests {
		err := ValidateRedirectURI(tt.uri, tt.public)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateRedirectURI(%q, public=%v): got %v, want ok=%v", tt.uri, tt.public, err, tt.ok)
		}
	}
}
