package clients

import (
	"errors"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

func TestValidateTokens(t *testing.T) {
	published := []string{"RS256", "ES256"}
	tests := []struct {
		name   string
		format string
		alg    string
		algs   []string
		key    string // the problem's message key; "" means valid
		detail string // what the detail names
	}{
		{"defaults", "", "", nil, "", ""},
		{"jwt", "jwt", "", nil, "", ""},
		{"opaque", "opaque", "", nil, "", ""},
		{"unknown format", "reference", "", nil, "admin_err_access_token_format", "jwt (the default) or opaque"},
		{"format is case-sensitive", "JWT", "", nil, "admin_err_access_token_format", "opaque"},
		{"RS256 without a published list", "", "RS256", nil, "", ""},
		{"ES256 not published", "", "ES256", nil, "admin_err_id_token_alg", ": RS256"},
		{"ES256 published", "", "ES256", published, "", ""},
		{"EdDSA not published", "", "EdDSA", published, "admin_err_id_token_alg", "RS256, ES256"},
		{"alg is case-sensitive", "", "rs256", nil, "admin_err_id_token_alg", "RS256"},
		{"none", "", "none", published, "admin_err_id_token_alg", "RS256, ES256"},
		{"HMAC", "", "HS256", published, "admin_err_id_token_alg", "RS256, ES256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			in.AccessTokenFormat, in.IDTokenSignedResponseAlg = tt.format, tt.alg
			errs := in.Validate(nil, tt.algs)
			if tt.key == "" {
				if len(errs) > 0 {
					t.Errorf("got %v, want valid", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Detail, tt.detail) {
				t.Errorf("got %+v, want one problem %s naming %q", errs, tt.key, tt.detail)
			}
		})
	}
}

func TestNormalizeTokens(t *testing.T) {
	in := validInput()
	if in.AccessTokenFormat != AccessTokenJWT || in.IDTokenSignedResponseAlg != "" {
		t.Errorf("defaults: got format %q, alg %q; want jwt and the server's default", in.AccessTokenFormat, in.IDTokenSignedResponseAlg)
	}
	in.AccessTokenFormat, in.IDTokenSignedResponseAlg = " opaque ", " ES256\n"
	in.Normalize()
	if in.AccessTokenFormat != AccessTokenOpaque || in.IDTokenSignedResponseAlg != "ES256" {
		t.Errorf("trimmed: got %q, %q", in.AccessTokenFormat, in.IDTokenSignedResponseAlg)
	}
	var c store.Client
	in.Apply(&c, true)
	if c.AccessTokenFormat != AccessTokenOpaque || c.IDTokenSignedResponseAlg != "ES256" {
		t.Errorf("applied: got %q, %q", c.AccessTokenFormat, c.IDTokenSignedResponseAlg)
	}
	if back := SpecOf(&c); back.AccessTokenFormat != in.AccessTokenFormat || back.IDTokenSignedResponseAlg != in.IDTokenSignedResponseAlg {
		t.Errorf("SpecOf(Apply(spec)): got %q, %q", back.AccessTokenFormat, back.IDTokenSignedResponseAlg)
	}
	// A client stored before the setting existed reads as a JWT client.
	if s := SpecOf(&store.Client{ID: "old"}); s.AccessTokenFormat != AccessTokenJWT {
		t.Errorf("stored without a format: got %q, want jwt", s.AccessTokenFormat)
	}
}

// TestRegistrarAlgorithms: the registrar allows what the server publishes,
// refuses the rest without writing, and an edit of another setting keeps
// the client's token settings.
func TestRegistrarAlgorithms(t *testing.T) {
	st := openStore(t)
	es := Registrar{Store: st, Algorithms: []string{"RS256", "ES256"}}
	rs := Registrar{Store: st}
	ctx := t.Context()

	in := validInput()
	in.IDTokenSignedResponseAlg, in.AccessTokenFormat = "ES256", AccessTokenOpaque
	var ferrs Errors
	if _, _, err := rs.Create(ctx, in); !errors.As(err, &ferrs) || ferrs[0].Field != "id_token_signed_response_alg" {
		t.Fatalf("ES256 when only RS256 is published: got %v, want a problem with id_token_signed_response_alg", err)
	}
	if _, err := st.ClientByID(ctx, in.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused client: got %v, want nothing written", err)
	}
	if _, _, err := es.Create(ctx, in); err != nil {
		t.Fatalf("ES256 when published: %v", err)
	}
	_, after, err := es.Update(ctx, in.ID, func(s *Spec) error { s.Name = "Cổng thuế điện tử"; return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessTokenFormat != AccessTokenOpaque || after.IDTokenSignedResponseAlg != "ES256" {
		t.Errorf("after renaming: got format %q, alg %q; want opaque, ES256 kept", after.AccessTokenFormat, after.IDTokenSignedResponseAlg)
	}
	// The server stopped publishing ES256: an edit says so rather than
	// silently changing the algorithm.
	if _, _, err := rs.Update(ctx, in.ID, func(s *Spec) error { s.Name = "Thuế"; return nil }, nil); !errors.As(err, &ferrs) ||
		ferrs[0].Field != "id_token_signed_response_alg" {
		t.Errorf("edit with an algorithm no longer published: got %v, want a problem with id_token_signed_response_alg", err)
	}
	if _, _, err := rs.Update(ctx, in.ID, func(s *Spec) error { s.IDTokenSignedResponseAlg = ""; return nil }, nil); err != nil {
		t.Errorf("back to the server's default: %v", err)
	}
}
