package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/clients"
)

// The CLI and the console (its API) accept and refuse exactly the same
// client specs: one table, both paths. The CLI registers through
// clients.Create with the spec its flags make; the API through its JSON.
func TestClientRulesAreTheSameForCLIAndConsole(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	api, _ := e.newAPIClient(t, "owner-bot", []string{"admin:owner"}, nil)
	var many []string
	for i := range clients.MaxURIs + 1 {
		many = append(many, fmt.Sprintf("https://a.example/cb%d", i))
	}
	specs := []struct {
		name string
		spec clients.Spec
	}{
		{"valid", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://thue.example.gov.vn/cb"}}},
		{"150 Vietnamese letters (300 bytes)", clients.Spec{Name: strings.Repeat("ê", 150), RedirectURIs: []string{"https://a.example/cb"}}},
		{"201 letters", clients.Spec{Name: strings.Repeat("a", 201), RedirectURIs: []string{"https://a.example/cb"}}},
		{"duplicate redirect URIs", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb"}}},
		{"too many redirect URIs", clients.Spec{Name: "Cổng", RedirectURIs: many}},
		{"sector with a space", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb"}, SectorIdentifier: "thue portal"}},
		{"sector with public subjects", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb"}, SubjectType: "public", SectorIdentifier: "thue"}},
		{"http logo", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb"}, LogoURL: "http://a.example/logo.png"}},
		{"wildcard", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://*.example/cb"}}},
		{"public with a custom scheme", clients.Spec{Name: "App", Public: true, RedirectURIs: []string{"vn.gov.app:/cb"}}},
		{"confidential with a custom scheme", clients.Spec{Name: "App", RedirectURIs: []string{"vn.gov.app:/cb"}}},
		{"unknown scope", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"admin:owner"}}},
		{"level 5", clients.Spec{Name: "Cổng", RedirectURIs: []string{"https://a.example/cb"}, MinLevel: 5}},
		{"no name", clients.Spec{RedirectURIs: []string{"https://a.example/cb"}}},
	}
	for i, tt := range specs {
		t.Run(tt.name, func(t *testing.T) {
			cliSpec, apiSpec := tt.spec, tt.spec
			cliSpec.ID, apiSpec.ID = fmt.Sprintf("cli-%d", i), fmt.Sprintf("api-%d", i)
			_, _, err := clients.Create(context.Background(), e.Store, cliSpec)
			var cliFields []string
			var ferrs clients.Errors
			if errors.As(err, &ferrs) {
				for _, f := range ferrs {
					cliFields = append(cliFields, f.Field)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"id": apiSpec.ID, "name": apiSpec.Name, "redirect_uris": apiSpec.RedirectURIs,
				"public": apiSpec.Public, "scopes": apiSpec.Scopes, "subject_type": apiSpec.SubjectType,
				"sector_identifier": apiSpec.SectorIdentifier, "min_level": apiSpec.MinLevel, "logo_url": apiSpec.LogoURL}
			r := api.do("POST", "/clients", body)
			var apiFields []string
			switch r.status {
			case http.StatusCreated:
			case http.StatusUnprocessableEntity:
				var p struct {
					Errors []clients.FieldError `json:"errors"`
				}
				if err := json.Unmarshal(r.body, &p); err != nil || len(p.Errors) == 0 {
					t.Fatalf("API refusal without field errors: %s", r.body)
				}
				for _, f := range p.Errors {
					apiFields = append(apiFields, f.Field)
				}
			default:
				t.Fatalf("API: got %d %s", r.status, r.body)
			}
			slices.Sort(cliFields)
			slices.Sort(apiFields)
			accepted := tt.name == "valid" || tt.name == "public with a custom scheme" || strings.HasPrefix(tt.name, "150 ")
			if (len(cliFields) == 0) != accepted {
				t.Errorf("CLI: got refused fields %v, want accepted=%v", cliFields, accepted)
			}
			if !slices.Equal(slices.Compact(cliFields), slices.Compact(apiFields)) {
				t.Errorf("refused fields: CLI %v, console %v", cliFields, apiFields)
			}
		})
	}
}
