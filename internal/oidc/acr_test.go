package oidc

import (
	"errors"
	"testing"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/assurance"
)

func testProvider(t testing.TB) *Provider {
	table, err := assurance.NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Provider{o: Options{ACR: table}}
}

func TestParseClaimsParam(t *testing.T) {
	p := testProvider(t)
	tests := []struct {
		name    string
		raw     string
		level   assurance.Level
		wantErr string
	}{
		{"absent", "", 0, ""},
		{"essential values, lowest wins", `{"id_token":{"acr":{"essential":true,"values":["urn:citizenid:loa:3","urn:citizenid:loa:2"]}}}`, 2, ""},
		{"essential single value", `{"userinfo":{"acr":{"essential":true,"value":"http://eidas.europa.eu/LoA/high"}}}`, 3, ""},
		{"voluntary is ignored", `{"id_token":{"acr":{"values":["urn:citizenid:loa:4"]}}}`, 0, ""},
		{"essential but unknown", `{"id_token":{"acr":{"essential":true,"values":["urn:other"]}}}`, 0, "unmet_authentication_requirements"},
		{"not JSON", `{"id_token":`, 0, "invalid_request"},
		{"wrong shape", `{"id_token":["acr"]}`, 0, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.parseClaimsParam(tt.raw)
			if got.level != tt.level {
				t.Errorf("level: got %d, want %d", got.level, tt.level)
			}
			if (got.err == nil) != (tt.wantErr == "") || (got.err != nil && !containsType(got.err, tt.wantErr)) {
				t.Errorf("error: got %v, want %q", got.err, tt.wantErr)
			}
		})
	}
}

func containsType(err error, typ string) bool {
	var e *zoidc.Error
	return errors.As(err, &e) && string(e.ErrorType) == typ
}

// FuzzParseClaimsParam: the claims parameter comes straight from the
// internet; parsing never panics and a level, when found, is 1..4.
func FuzzParseClaimsParam(f *testing.F) {
	for _, s := range []string{"", "{}", `{"id_token":{"acr":{"essential":true,"values":["urn:citizenid:loa:2"]}}}`, `{"id_token":null}`, `[1,2]`, `{"userinfo":{"acr":{"essential":true,"value":""}}}`} {
		f.Add(s)
	}
	p := testProvider(f)
	f.Fuzz(func(t *testing.T, raw string) {
		got := p.parseClaimsParam(raw)
		if got.err == nil && got.level != 0 && (got.level < assurance.Low || got.level > assurance.VeryHigh) {
			t.Fatalf("level %d out of range for %q", got.level, raw)
		}
		if got.err != nil && got.level != 0 {
			t.Fatalf("both a level and an error for %q", raw)
		}
	})
}
