package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

// api calls an API handler as the owner with body as JSON, and decodes
// the answer.
func (c *keysConsole) api(h pageFunc, method, path string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(method, path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if id, ok := strings.CutPrefix(path, apiPrefix+"/clients/"); ok {
		r.SetPathValue("id", id)
	}
	w := httptest.NewRecorder()
	api := *c.act
	api.via = "api"
	h(w, r, &api)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// TestConsoleClientTokens: the access token format and the ID token
// algorithm through the console, the algorithms limited to what the
// server publishes.
func TestConsoleClientTokens(t *testing.T) {
	c := newKeysConsole(t)
	form := func(extra map[string]string) map[string]string {
		m := map[string]string{"token_endpoint_auth_method": "client_secret_basic"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	// Only RS256 is published (no SigningAlgorithms): ES256 is refused
	// beside its field, naming what is allowed, and nothing is written.
	w := c.post(c.a.createClient, "/admin/clients", keysForm("thue", form(map[string]string{"id_token_signed_response_alg": "ES256"})))
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("ES256 unpublished: got status %d, want 422: %.300s", w.Code, body)
	}
	if !strings.Contains(body, `id="id_token_signed_response_alg-error"`) ||
		!strings.Contains(body, "not one the server publishes keys for. Choose the server default or one of: RS256.") {
		t.Errorf("ES256 unpublished: want the problem beside the field, listing RS256: %.2000s", body)
	}
	if _, err := c.st.ClientByID(t.Context(), "thue"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store: got %v, want nothing written", err)
	}
	if n := c.audited(t, "client.create", "thue"); n != 0 {
		t.Errorf("audit: got %d client.create events, want none", n)
	}
	if w := c.post(c.a.createClient, "/admin/clients", keysForm("thue", form(map[string]string{"access_token_format": "reference"}))); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), `id="access_token_format-error"`) {
		t.Errorf("unknown format: got %d, want 422 beside access_token_format", w.Code)
	}

	// ES256 published: accepted with an opaque format, shown on the page.
	c.a.o.SigningAlgorithms = []string{"RS256", "ES256"}
	w = c.post(c.a.createClient, "/admin/clients", keysForm("thue", form(map[string]string{
		"id_token_signed_response_alg": "ES256", "access_token_format": "opaque"})))
	if w.Code != http.StatusOK {
		t.Fatalf("ES256 published: got status %d, want the secret page: %.300s", w.Code, w.Body.String())
	}
	cl, err := c.st.ClientByID(t.Context(), "thue")
	if err != nil || cl.AccessTokenFormat != store.AccessTokenOpaque || cl.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("stored: got %+v, %v; want opaque, ES256", cl, err)
	}
	page := c.get(c.a.showClient, "thue") // in Vietnamese, the default
	for _, s := range []string{`id="access-token-format">Tham chiếu (opaque)`, `id="id-token-alg"><code>ES256</code>`,
		`<option value="opaque" selected>`, `<option value="ES256" selected>ES256</option>`, `<option value="RS256">RS256</option>`} {
		if !strings.Contains(page, s) {
			t.Errorf("client page: want %q", s)
		}
	}

	// The server stops publishing ES256: the page still shows the
	// client's algorithm, marked, and saving it is refused rather than
	// silently changing it.
	c.a.o.SigningAlgorithms = nil
	page = c.get(c.a.showClient, "thue")
	if !strings.Contains(page, `<option value="ES256" selected>ES256 (không được công bố)</option>`) {
		t.Errorf("client page, ES256 no longer published: want it selected and marked")
	}
	w = c.post(c.a.updateClient, "/admin/clients/thue", keysForm("thue", form(map[string]string{
		"id_token_signed_response_alg": "ES256", "access_token_format": "opaque", "name": "Thuế"})))
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "one of: RS256.") {
		t.Errorf("save with an unpublished algorithm: got %d, want 422 listing RS256", w.Code)
	}
	if after, _ := c.st.ClientByID(t.Context(), "thue"); after.Name != cl.Name {
		t.Errorf("after a refused edit: got name %q, want the client unchanged", after.Name)
	}
}

// TestAPIClientTokens: the API names the settings as RFC 7591 does,
// refuses an algorithm the server does not publish with a field error and
// nothing written, and round-trips valid values.
func TestAPIClientTokens(t *testing.T) {
	c := newKeysConsole(t)
	c.a.o.SigningAlgorithms = []string{"RS256", "EdDSA"}
	body := map[string]any{"id": "thue", "name": "Thuế", "redirect_uris": []string{"https://thue.example.gov.vn/cb"},
		"access_token_format": "opaque", "id_token_signed_response_alg": "ES256"}
	code, out := c.api(c.a.apiCreateClient, http.MethodPost, apiPrefix+"/clients", body)
	if got := jsonString(out); code != http.StatusUnprocessableEntity || !strings.Contains(got, `"field":"id_token_signed_response_alg"`) ||
		!strings.Contains(got, "RS256, EdDSA") {
		t.Errorf("ES256 unpublished: got %d %v, want 422 on id_token_signed_response_alg listing RS256, EdDSA", code, out)
	}
	if _, err := c.st.ClientByID(t.Context(), "thue"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store: got %v, want nothing written", err)
	}

	body["id_token_signed_response_alg"] = "EdDSA"
	code, out = c.api(c.a.apiCreateClient, http.MethodPost, apiPrefix+"/clients", body)
	cl, _ := out["client"].(map[string]any)
	if code != http.StatusCreated || cl["access_token_format"] != "opaque" || cl["id_token_signed_response_alg"] != "EdDSA" {
		t.Fatalf("create: got %d %v, want 201 with opaque, EdDSA", code, out)
	}
	// A patch of one setting keeps the other.
	code, out = c.api(c.a.apiPatchClient, http.MethodPatch, apiPrefix+"/clients/thue", map[string]any{"access_token_format": "jwt"})
	if code != http.StatusOK || out["access_token_format"] != "jwt" || out["id_token_signed_response_alg"] != "EdDSA" {
		t.Errorf("patch the format: got %d %v, want jwt and EdDSA kept", code, out)
	}
	code, out = c.api(c.a.apiPatchClient, http.MethodPatch, apiPrefix+"/clients/thue", map[string]any{"id_token_signed_response_alg": "HS256"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(jsonString(out), `"field":"id_token_signed_response_alg"`) {
		t.Errorf("patch to HS256: got %d %v, want 422 on id_token_signed_response_alg", code, out)
	}
	code, out = c.api(c.a.apiGetClient, http.MethodGet, apiPrefix+"/clients/thue", nil)
	if code != http.StatusOK || out["access_token_format"] != "jwt" || out["id_token_signed_response_alg"] != "EdDSA" {
		t.Errorf("get: got %d %v, want jwt and EdDSA (the refused patch wrote nothing)", code, out)
	}
	// A client stored before the settings existed reads as jwt and the
	// server's default.
	if err := c.st.CreateClient(t.Context(), &store.Client{ID: "old", Name: "Cũ", RedirectURIs: []string{"https://cu.example.gov.vn/cb"}}); err != nil {
		t.Fatal(err)
	}
	if code, out = c.api(c.a.apiGetClient, http.MethodGet, apiPrefix+"/clients/old", nil); out["access_token_format"] != "jwt" || out["id_token_signed_response_alg"] != "" {
		t.Errorf("old client: got %d %v, want jwt and empty", code, out)
	}
}
