package clients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
)

var portalKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

// jwks is a key set of the portal's key: public, or private by mistake.
func jwks(t testing.TB, private bool) string {
	t.Helper()
	var key any = portalKey.Public()
	if private {
		key = portalKey
	}
	b, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "portal-2026", Algorithm: "ES256", Use: "sig"}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSpecKeysAndProfile(t *testing.T) {
	pub, priv := jwks(t, false), jwks(t, true)
	keyed := func(in *Spec) { in.TokenEndpointAuthMethod, in.JWKS = AuthPrivateKeyJWT, pub }
	tests := []struct {
		name   string
		change func(*Spec)
		fields []string
		key    string // the message key of the first problem, when it matters
	}{
		{"private_key_jwt with a JWKS", keyed, nil, ""},
		{"private_key_jwt with a JWKS URI", func(in *Spec) {
			in.TokenEndpointAuthMethod, in.JWKSURI = AuthPrivateKeyJWT, "https://thue.example.gov.vn/jwks.json"
		}, nil, ""},
		{"private_key_jwt without keys", func(in *Spec) { in.TokenEndpointAuthMethod = AuthPrivateKeyJWT }, []string{"jwks"}, "admin_err_jwks_required"},
		{"keys for signed requests with a secret", func(in *Spec) { in.JWKS = pub }, nil, ""},
		{"both JWKS and URI", func(in *Spec) { keyed(in); in.JWKSURI = "https://thue.example.gov.vn/jwks.json" }, []string{"jwks"}, "admin_err_jwks_both"},
		{"a private key pasted", func(in *Spec) { keyed(in); in.JWKS = priv }, []string{"jwks"}, "admin_err_jwks_private"},
		{"not a key set", func(in *Spec) { keyed(in); in.JWKS = "-----BEGIN PUBLIC KEY-----" }, []string{"jwks"}, "admin_err_jwks"},
		{"JWKS URI over http", func(in *Spec) { keyed(in); in.JWKS, in.JWKSURI = "", "http://thue.example.gov.vn/jwks" }, []string{"jwks_uri"}, "admin_err_jwks_uri"},
		{"JWKS URI on loopback http", func(in *Spec) { keyed(in); in.JWKS, in.JWKSURI = "", "http://127.0.0.1:8080/jwks" }, nil, ""},
		{"public client with keys", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod, in.JWKS = true, AuthNone, pub
		}, []string{"jwks"}, "admin_err_jwks_public"},
		{"public client with private_key_jwt", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod = true, AuthPrivateKeyJWT
		}, []string{"token_endpoint_auth_method"}, "admin_err_auth_method"},
		{"unknown method", func(in *Spec) { in.TokenEndpointAuthMethod = "tls_client_auth" }, []string{"token_endpoint_auth_method"}, "admin_err_auth_method"},
		{"PAR and DPoP", func(in *Spec) { in.RequirePAR, in.RequireDPoP = true, true }, nil, ""},
		{"PAR and DPoP for a public client", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod, in.RequirePAR, in.RequireDPoP = true, AuthNone, true, true
		}, nil, ""},
		{"fapi2", func(in *Spec) {
			in.TokenEndpointAuthMethod, in.JWKS, in.Profile = "", pub, ProfileFAPI2
			in.Normalize()
		}, nil, ""},
		{"fapi2 with a secret method", func(in *Spec) {
			in.JWKS, in.Profile = pub, ProfileFAPI2
			in.Normalize()
		}, []string{"token_endpoint_auth_method"}, "admin_err_fapi2_auth"},
		{"fapi2 without keys", func(in *Spec) {
			in.TokenEndpointAuthMethod, in.Profile = "", ProfileFAPI2
			in.Normalize()
		}, []string{"jwks"}, "admin_err_jwks_required"},
		{"fapi2 public", func(in *Spec) {
			in.Public, in.TokenEndpointAuthMethod, in.Profile = true, "", ProfileFAPI2
			in.RedirectURIs = []string{"vn.gov.thue.app:/cb"}
			in.Normalize()
		}, []string{"profile"}, "admin_err_fapi2_public"},
		{"fapi2 not normalized", func(in *Spec) { keyed(in); in.Profile = ProfileFAPI2 }, []string{"profile"}, "admin_err_fapi2_par_dpop"},
		{"unknown profile", func(in *Spec) { in.Profile = "fapi1" }, []string{"profile"}, "admin_err_profile"},
		{"audience https", func(in *Spec) { in.AccessTokenAudience = "https://api.thue.example.gov.vn" }, nil, ""},
		{"audience URN", func(in *Spec) { in.AccessTokenAudience = "urn:gov:vn:thue:api" }, nil, ""},
		{"audience http", func(in *Spec) { in.AccessTokenAudience = "http://api.thue.example.gov.vn" }, []string{"access_token_audience"}, "admin_err_audience"},
		{"audience relative", func(in *Spec) { in.AccessTokenAudience = "thue-api" }, []string{"access_token_audience"}, "admin_err_audience"},
		{"audience with fragment", func(in *Spec) { in.AccessTokenAudience = "https://api.example/#x" }, []string{"access_token_audience"}, "admin_err_audience"},
		{"audience with a space", func(in *Spec) { in.AccessTokenAudience = "urn:gov:vn thue" }, []string{"access_token_audience"}, "admin_err_audience"},
		{"own secret with private_key_jwt", func(in *Spec) { keyed(in); in.Secret = strings.Repeat("s", MinSecretLength) }, []string{"secret"}, "admin_err_secret_keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			errs := in.Validate(nil, nil)
			var got []string
			for _, e := range errs {
				if !slices.Contains(got, e.Field) {
					got = append(got, e.Field)
				}
				if e.Key == "" || e.Detail == "" {
					t.Errorf("field error %+v: want a message key and a detail", e)
				}
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields with problems: got %v (%v), want %v", got, errs, tt.fields)
			}
			if tt.key != "" && len(errs) > 0 && errs[0].Key != tt.key {
				t.Errorf("message key: got %s, want %s", errs[0].Key, tt.key)
			}
		})
	}
}

func TestNormalizeKeys(t *testing.T) {
	in := Spec{ID: "tax", Name: "Thuế", RedirectURIs: []string{"https://thue.example.gov.vn/cb"}, JWKS: "\n" + jwks(t, false) + "\n",
		Profile: " fapi2 ", JWKSURI: " ", AccessTokenAudience: " urn:gov:vn:thue "}
	in.Normalize()
	if strings.ContainsAny(in.JWKS, " \n") || !json.Valid([]byte(in.JWKS)) {
		t.Errorf("JWKS: got %q, want compact JSON", in.JWKS)
	}
	if in.TokenEndpointAuthMethod != AuthPrivateKeyJWT || !in.RequirePAR || !in.RequireDPoP || in.Profile != ProfileFAPI2 {
		t.Errorf("fapi2: got method %s, PAR %v, DPoP %v, profile %q; want private_key_jwt, both required", in.TokenEndpointAuthMethod, in.RequirePAR, in.RequireDPoP, in.Profile)
	}
	if in.JWKSURI != "" || in.AccessTokenAudience != "urn:gov:vn:thue" {
		t.Errorf("trimmed: got %q, %q", in.JWKSURI, in.AccessTokenAudience)
	}
	if errs := in.Validate(nil, nil); len(errs) > 0 {
		t.Errorf("normalized fapi2 spec: got %v, want valid", errs)
	}
	// What SpecOf reads back is what was applied.
	var c store.Client
	in.Apply(&c, true)
	if back := SpecOf(&c); back.JWKS != in.JWKS || back.Profile != in.Profile || !back.RequirePAR || !back.RequireDPoP ||
		back.AccessTokenAudience != in.AccessTokenAudience || back.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
		t.Errorf("SpecOf(Apply(spec)): got %+v, want %+v", back, in)
	}
}

func TestDescribeKeys(t *testing.T) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "thue"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, portalKey.Public(), portalKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: portalKey.Public(), KeyID: "with-cert", Certificates: []*x509.Certificate{cert}},
		{Key: portalKey.Public(), KeyID: "plain", Algorithm: "ES256"},
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	got, err := StoredKeys(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "with-cert" || got[0].Type != "EC P-256" || !slices.Equal(got[0].Algorithms, []string{"ES256"}) ||
		!got[0].NotAfter.Equal(tmpl.NotAfter) || !got[1].NotAfter.IsZero() {
		t.Errorf("StoredKeys: got %+v", got)
	}
}

// openStore is a migrated SQLite store (the rules, not the dialects, are
// under test here; the store has its own conformance suite).
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "clients.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// portalJWKS serves the portal's keys, and /slow answers after the
// fetcher's timeout.
func portalJWKS(t *testing.T) (*httptest.Server, Registrar) {
	t.Helper()
	body := jwks(t, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			w.Write([]byte(body))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, Registrar{Store: openStore(t), Keys: clientkeys.NewFetcher(&http.Client{Timeout: 200 * time.Millisecond}, nil)}
}

func TestCreateWithKeys(t *testing.T) {
	srv, reg := portalJWKS(t)
	ctx := t.Context()
	spec := func(id string) Spec {
		return Spec{ID: id, Name: "Thuế", RedirectURIs: []string{"https://thue.example.gov.vn/cb"}, TokenEndpointAuthMethod: AuthPrivateKeyJWT}
	}

	s := spec("inline")
	s.JWKS = jwks(t, false)
	c, secret, err := reg.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != "" {
		t.Errorf("private_key_jwt client: got secret %q, hash %q, want none", secret, c.SecretHash)
	}

	s = spec("by-uri")
	s.JWKSURI = srv.URL + "/jwks"
	if _, _, err := reg.Create(ctx, s); err != nil {
		t.Fatalf("a JWKS URI that answers: %v", err)
	}

	for _, tt := range []struct{ path, key, detail string }{
		{"/slow", "admin_err_jwks_timeout", "no answer within 200ms"},
		{"/missing", "admin_err_jwks_fetch", "HTTP 404"},
	} {
		s = spec("broken" + strings.ReplaceAll(tt.path, "/", "-"))
		s.JWKSURI = srv.URL + tt.path
		_, _, err := reg.Create(ctx, s)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Field != "jwks_uri" || errs[0].Key != tt.key || !strings.Contains(errs[0].Detail, tt.detail) {
			t.Errorf("JWKS URI %s: got %v, want a jwks_uri error %s mentioning %q", tt.path, err, tt.key, tt.detail)
		}
		if _, err := reg.Store.ClientByID(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("JWKS URI %s: got %v looking the client up, want nothing written", tt.path, err)
		}
	}
}

func TestUpdateKeys(t *testing.T) {
	srv, reg := portalJWKS(t)
	ctx := t.Context()
	c, secret, err := reg.Create(ctx, Spec{ID: "tax", Name: "Thuế", RedirectURIs: []string{"https://thue.example.gov.vn/cb"}})
	if err != nil || secret == "" {
		t.Fatalf("create: %v, secret %q", err, secret)
	}
	set := func(f func(*Spec)) func(*Spec) error { return func(s *Spec) error { f(s); return nil } }

	// A JWKS URI that times out: an error, the client as it was.
	_, _, err = reg.Update(ctx, "tax", set(func(s *Spec) { s.TokenEndpointAuthMethod, s.JWKSURI = AuthPrivateKeyJWT, srv.URL+"/slow" }), nil)
	var errs Errors
	if !errors.As(err, &errs) || errs[0].Key != "admin_err_jwks_timeout" {
		t.Fatalf("update to a slow JWKS URI: got %v, want admin_err_jwks_timeout", err)
	}
	if got, _ := reg.Store.ClientByID(ctx, "tax"); got.JWKSURI != "" || got.TokenEndpointAuthMethod != AuthBasic || got.SecretHash != c.SecretHash {
		t.Errorf("after a refused update: got %+v, want the client unchanged", got)
	}

	// To fapi2 with keys: PAR and DPoP on, the secret gone.
	_, after, err := reg.Update(ctx, "tax", set(func(s *Spec) {
		s.TokenEndpointAuthMethod, s.JWKSURI, s.Profile = AuthPrivateKeyJWT, srv.URL+"/jwks", ProfileFAPI2
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !after.FAPI2() || !after.RequirePAR || !after.RequireDPoP || after.SecretHash != "" || after.JWKSURI != srv.URL+"/jwks" {
		t.Errorf("to fapi2: got %+v, want fapi2, PAR, DPoP, the URI and no secret", after)
	}

	// Leaving fapi2 keeps PAR and DPoP until they are turned off.
	_, after, err = reg.Update(ctx, "tax", set(func(s *Spec) { s.Profile = "" }), nil)
	if err != nil || after.Profile != "" || !after.RequirePAR || !after.RequireDPoP {
		t.Errorf("leave fapi2: got %+v, %v, want no profile, PAR and DPoP still required", after, err)
	}

	// An edit that yields another URI the second time: a conflict, nothing written.
	n := 0
	_, _, err = reg.Update(ctx, "tax", set(func(s *Spec) {
		n++
		s.JWKSURI = srv.URL + "/jwks?v=" + string(rune('0'+n))
	}), nil)
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("the client changed during the check: got %v, want ErrConflict", err)
	}
	if got, _ := reg.Store.ClientByID(ctx, "tax"); got.JWKSURI != srv.URL+"/jwks" {
		t.Errorf("after a conflict: got URI %q, want it unchanged", got.JWKSURI)
	}

	// An unchanged URI is not fetched again: the portal may be down while
	// an administrator renames it.
	srv.Close()
	if _, _, err := reg.Update(ctx, "tax", set(func(s *Spec) { s.Name = "Cổng thuế" }), nil); err != nil {
		t.Errorf("rename with the JWKS URI down: got %v, want it saved", err)
	}
	if _, _, err := reg.Update(context.Background(), "nobody", set(func(*Spec) {}), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown client: got %v, want ErrNotFound", err)
	}
}
