package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
	"github.com/citizenid/citizenid/templates"
)

// keysConsole is the console's client pages over a real (SQLite) store,
// called as an owner would after the console's own checks; a short
// timeout for fetching a jwks_uri.
type keysConsole struct {
	a     *Admin
	st    *sqlstore.Store
	act   *actor
	slow  string // a jwks_uri that answers after the timeout
	keys  string // a jwks_uri serving the portal's keys
	key   *ecdsa.PrivateKey
	certs int64 // certificate serials
}

func newKeysConsole(t *testing.T) *keysConsole {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewRenderer(templates.FS, log)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := newRenderer(srv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &keysConsole{st: st, key: key, act: &actor{ref: "admin:test", name: "Quản trị", roles: []Role{RoleOwner}, via: "console", lang: "en"}}
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			w.Write([]byte(c.jwks(t, false)))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(portal.Close)
	c.slow, c.keys = portal.URL+"/slow", portal.URL+"/jwks"
	c.a = &Admin{rd: rd, o: Options{Store: st, Log: log, Renderer: srv, Sessions: session.New(nil, session.Options{}),
		Audit: audit.New(st, log, nil), SecretOverlap: time.Hour,
		ClientKeys: clientkeys.NewFetcher(&http.Client{Timeout: 200 * time.Millisecond}, nil)}}
	return c
}

// jwks is the portal's key set, with a certificate, or its private key
// pasted by mistake.
func (c *keysConsole) jwks(t *testing.T, private bool) string {
	t.Helper()
	c.certs++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(c.certs), Subject: pkix.Name{CommonName: "thue.example.gov.vn"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, c.key.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	k := jose.JSONWebKey{Key: c.key.Public(), KeyID: "thue-2026", Algorithm: "ES256", Use: "sig", Certificates: []*x509.Certificate{cert}}
	if private {
		k = jose.JSONWebKey{Key: c.key, KeyID: "thue-2026", Algorithm: "ES256", Use: "sig"}
	}
	b, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// post submits a console form to h as the owner.
func (c *keysConsole) post(h pageFunc, path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ParseForm()
	if id, ok := strings.CutPrefix(path, "/admin/clients/"); ok {
		r.SetPathValue("id", strings.Split(id, "/")[0])
	}
	w := httptest.NewRecorder()
	h(w, r, c.act)
	return w
}

func (c *keysConsole) get(h pageFunc, id string) string {
	r := httptest.NewRequest(http.MethodGet, "/admin/clients/"+id, nil)
	r.SetPathValue("id", id)
	w := httptest.NewRecorder()
	h(w, r, c.act)
	return w.Body.String()
}

// audited is the number of audit events of action on client id.
func (c *keysConsole) audited(t *testing.T, action, id string) int {
	t.Helper()
	evs, err := c.st.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Action == action && e.Target == "client:"+id {
			n++
		}
	}
	return n
}

func keysForm(id string, extra map[string]string) url.Values {
	f := url.Values{"id": {id}, "name": {"Cổng thuế"}, "redirect_uris": {"https://thue.example.gov.vn/cb"}, "min_level": {"2"},
		"subject_type": {"pairwise"}, "token_endpoint_auth_method": {"private_key_jwt"}}
	for k, v := range extra {
		f.Set(k, v)
	}
	return f
}

func TestConsoleClientKeysRefused(t *testing.T) {
	c := newKeysConsole(t)
	priv := c.jwks(t, true)
	var set struct {
		Keys []struct {
			D string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(priv), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].D == "" {
		t.Fatalf("the test's private key set has no d: %v", err)
	}
	secret := set.Keys[0].D
	tests := []struct {
		name   string
		extra  map[string]string
		field  string
		want   []string // on the page
		absent []string // never on the page
	}{
		{"a private key pasted", map[string]string{"jwks": priv}, "jwks",
			[]string{"contains a private key. Nothing was saved"}, []string{secret}},
		{"a JWKS URI that times out", map[string]string{"jwks_uri": c.slow}, "jwks_uri",
			[]string{"did not answer in time. Nothing was saved", "no answer within 200ms"}, nil},
		{"a JWKS URI not found", map[string]string{"jwks_uri": c.keys + "-gone"}, "jwks_uri",
			[]string{"No valid key set could be fetched", "HTTP 404"}, nil},
		{"not a key set", map[string]string{"jwks": "-----BEGIN PUBLIC KEY-----"}, "jwks",
			[]string{"The key set (JWKS) is not valid", "not a JSON Web Key Set"}, nil},
		{"no keys", nil, "jwks", []string{"private_key_jwt needs the portal&#39;s public keys"}, nil},
		{"fapi2 with a secret", map[string]string{"profile": "fapi2", "token_endpoint_auth_method": "client_secret_basic", "jwks": c.jwks(t, false)},
			"token_endpoint_auth_method", []string{"FAPI 2.0 profile requires private_key_jwt"}, nil},
		{"bad audience", map[string]string{"jwks": c.jwks(t, false), "access_token_audience": "thue api"}, "access_token_audience",
			[]string{"access token audience is not valid"}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "refused-" + string(rune('a'+i))
			start := time.Now()
			w := c.post(c.a.createClient, "/admin/clients", keysForm(id, tt.extra))
			body := w.Body.String()
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("got status %d, want 422: %.300s", w.Code, body)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v, want the fetcher's short timeout to end it", time.Since(start))
			}
			if !strings.Contains(body, `id="`+tt.field+`-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("want the problem beside field %s", tt.field)
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page: want %q", s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("page: got %q shown back, want it not echoed", s)
				}
			}
			if _, err := c.st.ClientByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("store: got %v, want nothing written", err)
			}
			if n := c.audited(t, "client.create", id); n != 0 {
				t.Errorf("audit: got %d client.create events, want none", n)
			}
		})
	}
}

func TestConsoleClientKeys(t *testing.T) {
	c := newKeysConsole(t)
	ctx := t.Context()

	// Registered with its keys: no secret page, no secret.
	w := c.post(c.a.createClient, "/admin/clients", keysForm("thue", map[string]string{"jwks": c.jwks(t, false), "profile": "fapi2"}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/clients/thue?done=admin_msg_created_keys" {
		t.Fatalf("create: got %d to %q, want 303 to the client page: %.300s", w.Code, w.Header().Get("Location"), w.Body.String())
	}
	cl, err := c.st.ClientByID(ctx, "thue")
	if err != nil {
		t.Fatal(err)
	}
	if cl.SecretHash != "" || !cl.FAPI2() || !cl.RequirePAR || !cl.RequireDPoP || strings.Contains(cl.JWKS, "\n") {
		t.Errorf("stored: got secret hash %q, profile %q, PAR %v, DPoP %v, JWKS %.40q; want no secret, fapi2, both, compact",
			cl.SecretHash, cl.Profile, cl.RequirePAR, cl.RequireDPoP, cl.JWKS)
	}
	if n := c.audited(t, "client.create", "thue"); n != 1 {
		t.Errorf("audit: got %d client.create events, want 1", n)
	}

	// Its page: the key, its algorithm, type and certificate expiry; no
	// secret to rotate.
	page := c.get(c.a.showClient, "thue")
	for _, s := range []string{`<code>thue-2026</code>`, "ES256", "EC P-256", "2027-06-30 07:00:00 &#43;07:00", `id="secret-keyed"`, `value="private_key_jwt" selected`,
		`value="fapi2" selected`, `id="require_par" name="require_par" checked`} {
		if !strings.Contains(page, s) {
			t.Errorf("client page: want %q", s)
		}
	}
	if strings.Contains(page, `id="rotate-secret"`) {
		t.Error("client page: got a secret rotation, want none for a private_key_jwt client")
	}
	if w := c.post(c.a.rotateSecret, "/admin/clients/thue/secret", url.Values{"overlap": {"0"}}); !strings.Contains(w.Header().Get("Location"), "err=admin_err_secret_keys") {
		t.Errorf("rotate: got %d to %q, want refused with admin_err_secret_keys", w.Code, w.Header().Get("Location"))
	}

	// An edit to a JWKS URI that times out: the problem beside the field,
	// the client as it was, nothing audited.
	edit := keysForm("thue", map[string]string{"jwks_uri": c.slow, "profile": "fapi2"})
	w = c.post(c.a.updateClient, "/admin/clients/thue", edit)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "did not answer in time") {
		t.Errorf("update to a slow JWKS URI: got %d, want 422 with the timeout: %.300s", w.Code, w.Body.String())
	}
	if after, _ := c.st.ClientByID(ctx, "thue"); after.JWKSURI != "" || after.JWKS != cl.JWKS {
		t.Errorf("after a refused edit: got JWKS URI %q, want the client unchanged", after.JWKSURI)
	}
	if n := c.audited(t, "client.update", "thue"); n != 0 {
		t.Errorf("audit: got %d client.update events, want none", n)
	}

	// An edit to a JWKS URI that answers: the page lists the keys fetched
	// from it.
	w = c.post(c.a.updateClient, "/admin/clients/thue", keysForm("thue", map[string]string{"jwks_uri": c.keys, "profile": "fapi2"}))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("update to a JWKS URI: got %d, want 303: %.300s", w.Code, w.Body.String())
	}
	page = c.get(c.a.showClient, "thue")
	if !strings.Contains(page, `id="keys-from">`+c.keys) || !strings.Contains(page, "thue-2026") {
		t.Errorf("client page with a JWKS URI: want the URI and its keys")
	}
	if n := c.audited(t, "client.update", "thue"); n != 1 {
		t.Errorf("audit: got %d client.update events, want 1", n)
	}
}

// TestAPIClientKeys: the API takes the key set as a JSON object and
// answers with it; a private key is a field error.
func TestAPIClientKeys(t *testing.T) {
	c := newKeysConsole(t)
	call := c.api
	body := map[string]any{"id": "thue", "name": "Thuế", "redirect_uris": []string{"https://thue.example.gov.vn/cb"},
		"token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(c.jwks(t, true)), "profile": "fapi2"}
	code, out := call(c.a.apiCreateClient, http.MethodPost, apiPrefix+"/clients", body)
	if code != http.StatusUnprocessableEntity || !strings.Contains(jsonString(out), `"field":"jwks"`) {
		t.Errorf("private key: got %d %v, want 422 on jwks", code, out)
	}
	body["jwks"] = json.RawMessage(c.jwks(t, false))
	code, out = call(c.a.apiCreateClient, http.MethodPost, apiPrefix+"/clients", body)
	if code != http.StatusCreated || out["client_secret"] != nil {
		t.Fatalf("create: got %d %v, want 201 without a secret", code, out)
	}
	cl, _ := out["client"].(map[string]any)
	if cl["require_par"] != true || cl["require_dpop"] != true || cl["profile"] != "fapi2" || cl["token_endpoint_auth_method"] != "private_key_jwt" {
		t.Errorf("created: got %v, want fapi2 with PAR, DPoP and private_key_jwt", cl)
	}
	if keys, _ := cl["jwks"].(map[string]any)["keys"].([]any); len(keys) != 1 {
		t.Errorf("created: got jwks %v, want the key set as an object", cl["jwks"])
	}
	code, out = call(c.a.apiPatchClient, http.MethodPatch, apiPrefix+"/clients/thue", map[string]any{"jwks": nil, "jwks_uri": c.keys,
		"access_token_audience": "urn:gov:vn:thue:api"})
	if code != http.StatusOK || out["jwks"] != nil || out["jwks_uri"] != c.keys || out["access_token_audience"] != "urn:gov:vn:thue:api" {
		t.Errorf("patch to a JWKS URI: got %d %v", code, out)
	}
	code, out = call(c.a.apiPatchClient, http.MethodPatch, apiPrefix+"/clients/thue", map[string]any{"jwks_uri": c.slow})
	if code != http.StatusUnprocessableEntity || !strings.Contains(jsonString(out), "no answer within 200ms") {
		t.Errorf("patch to a slow JWKS URI: got %d %v, want 422 naming the timeout", code, out)
	}
}
