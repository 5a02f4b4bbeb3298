package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/store"
)

// apiClient calls the admin API with tokens from CitizenID's own
// client_credentials grant (golang.org/x/oauth2).
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

// newAPIClient registers a confidential client granted scopes and returns
// a caller asking for ask (all granted scopes when empty).
func (e *adminEnv) newAPIClient(t *testing.T, id string, granted, ask []string) (*apiClient, string) {
	t.Helper()
	secret := e.addClient(t, oidcSpec(id, cbURL))
	if err := e.Store.UpdateClient(context.Background(), id, func(c *store.Client) error {
		c.AdminScopes = granted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return e.apiWith(t, id, secret, ask), secret
}

func (e *adminEnv) apiWith(t *testing.T, id, secret string, ask []string) *apiClient {
	cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.URL + "/oauth/token", Scopes: ask,
		AuthStyle: oauth2.AuthStyleInHeader} // as registered: client_secret_basic
	return &apiClient{t: t, base: e.URL + "/admin/api/v1", http: cc.Client(context.Background())}
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemOf decodes a problem details answer, checking its media type.
func (r apiResponse) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type: got %q (%d %s), want application/problem+json", ct, r.status, r.body)
	}
	var p map[string]any
	r.decode(t, &p)
	if p["status"] != float64(r.status) || p["title"] == "" || p["type"] == "" {
		t.Errorf("problem: got %v, want type, title and status %d", p, r.status)
	}
	return p
}

func (c *apiClient) do(method, path string, body any) apiResponse {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

type apiClientJSON struct {
	ID                       string     `json:"id"`
	Name                     string     `json:"name"`
	RedirectURIs             []string   `json:"redirect_uris"`
	GrantTypes               []string   `json:"grant_types"`
	MinLevel                 int        `json:"min_level"`
	Disabled                 bool       `json:"disabled"`
	Scopes                   []string   `json:"scopes"`
	AccessTokenLifetime      int64      `json:"access_token_lifetime_seconds"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
}

func TestAdminAPIClients(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) {
			testAdminAPIClients(t, production)
		})
	}
}

func testAdminAPIClients(t *testing.T, production bool) {
	e := newAdminEnv(t, production, nil)
	api, apiSecret := e.newAPIClient(t, "automation", []string{"admin:rp-manager"}, nil)
	ctx := context.Background()

	// Create.
	body := map[string]any{"id": "tax-portal", "name": "Cổng thuế", "redirect_uris": []string{"https://thue.example.gov.vn/cb"},
		"scopes": []string{"citizen_number"}, "min_level": 2, "access_token_lifetime_seconds": 300}
	r := api.do("POST", "/clients", body)
	var created struct {
		Client       apiClientJSON `json:"client"`
		ClientSecret string        `json:"client_secret"`
	}
	r.decode(t, &created)
	if r.status != http.StatusCreated || created.ClientSecret == "" || created.Client.MinLevel != 2 ||
		r.header.Get("Location") != "/admin/api/v1/clients/tax-portal" || created.Client.AccessTokenLifetime != 300 {
		t.Fatalf("create: got %d %s", r.status, r.body)
	}
	if !clientAuth(t, e, "tax-portal", created.ClientSecret) {
		t.Fatal("the returned secret does not authenticate the new client")
	}
	if r := api.do("POST", "/clients", body); r.status != http.StatusConflict || r.problem(t)["type"] != "urn:citizenid:problem:conflict" {
		t.Errorf("create twice: got %d %s, want 409 conflict", r.status, r.body)
	}

	// Invalid input: problem details naming each field; nothing written.
	invalid := []struct {
		name  string
		body  map[string]any
		field string
		want  string
	}{
		{"wildcard", map[string]any{"id": "w", "name": "W", "redirect_uris": []string{"https://*.example.gov.vn/cb"}}, "redirect_uris", "wildcards"},
		{"http", map[string]any{"id": "h1", "name": "H", "redirect_uris": []string{"http://portal.example.gov.vn/cb"}}, "redirect_uris", "loopback"},
		{"fragment", map[string]any{"id": "f1", "name": "F", "redirect_uris": []string{"https://portal.example.gov.vn/cb#x"}}, "redirect_uris", "fragment"},
		{"no redirect", map[string]any{"id": "n1", "name": "N"}, "redirect_uris", "redirect URIs"},
		{"level", map[string]any{"id": "l1", "name": "L", "redirect_uris": []string{"https://a.example/cb"}, "min_level": 9}, "min_level", "1 to 4"},
		{"scope", map[string]any{"id": "s1", "name": "S", "redirect_uris": []string{"https://a.example/cb"}, "scopes": []string{"everything"}}, "scopes", "unknown"},
		{"lifetime", map[string]any{"id": "t1", "name": "T", "redirect_uris": []string{"https://a.example/cb"}, "access_token_lifetime_seconds": 5}, "access_token_lifetime", "access_token_lifetime"},
		{"id", map[string]any{"id": "Not OK", "name": "I", "redirect_uris": []string{"https://a.example/cb"}}, "id", "a-z"},
		{"legal basis", map[string]any{"id": "b1", "name": "B", "redirect_uris": []string{"https://a.example/cb"}, "legal_basis": "Luật\nthuế"}, "legal_basis", "one line"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			r := api.do("POST", "/clients", tt.body)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d %s, want 422", r.status, r.body)
			}
			p := r.problem(t)
			if p["type"] != "urn:citizenid:problem:validation" || !strings.Contains(string(r.body), tt.want) ||
				!strings.Contains(string(r.body), `"field":"`+tt.field+`"`) {
				t.Errorf("got %s, want a validation problem on %s mentioning %q", r.body, tt.field, tt.want)
			}
			if _, err := e.Store.ClientByID(ctx, tt.body["id"].(string)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("client %s after a refused create: got %v, want none", tt.body["id"], err)
			}
		})
	}
	for _, raw := range []string{`{"id":"x","name":"X","redirect_uris":["https://a.example/cb"],"secret":"mine"}`, `{"id":`, `{} {}`} {
		req, _ := http.NewRequest("POST", api.base+"/clients", strings.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		resp, err := api.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("body %s: got %d, want 400 problem", raw, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", api.base+"/clients", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := api.http.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: got %v %v, want 415", resp.StatusCode, err)
	}

	// Update by merge patch; an invalid patch changes nothing.
	r = api.do("PATCH", "/clients/tax-portal", map[string]any{"redirect_uris": []string{"https://thue.example.gov.vn/*"}, "name": "Changed"})
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("patch with a wildcard: got %d %s, want 422", r.status, r.body)
	}
	if c, _ := e.Store.ClientByID(ctx, "tax-portal"); c.Name != "Cổng thuế" {
		t.Errorf("after a refused patch: got name %q, want unchanged", c.Name)
	}
	if r := api.do("PATCH", "/clients/tax-portal", map[string]any{"public": true}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("patching the client type: got %d, want 422", r.status)
	}
	r = api.do("PATCH", "/clients/tax-portal", map[string]any{"name": "Cổng thuế điện tử", "disabled": true, "min_level": 1})
	var got apiClientJSON
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Name != "Cổng thuế điện tử" || !got.Disabled || got.MinLevel != 1 || len(got.Scopes) != 1 {
		t.Errorf("patch: got %d %s", r.status, r.body)
	}
	// A legal basis, by patch: the API returns it and the store keeps it.
	const basis = "Luật Quản lý thuế 2019, Điều 17"
	if r := api.do("PATCH", "/clients/tax-portal", map[string]any{"legal_basis": basis}); r.status != http.StatusOK ||
		!strings.Contains(string(r.body), `"legal_basis":"`+basis+`"`) {
		t.Errorf("patch legal_basis: got %d %s", r.status, r.body)
	}
	if c, _ := e.Store.ClientByID(ctx, "tax-portal"); c.LegalBasis != basis {
		t.Errorf("legal basis stored: got %q, want %q", c.LegalBasis, basis)
	}

	// List with cursor paging.
	for _, id := range []string{"a-portal", "b-portal"} {
		if r := api.do("POST", "/clients", map[string]any{"id": id, "name": id, "redirect_uris": []string{"https://a.example/cb"}}); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, r.status, r.body)
		}
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		var pg struct {
			Items      []apiClientJSON `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		api.do("GET", "/clients?"+q.Encode(), nil).decode(t, &pg)
		for _, c := range pg.Items {
			ids = append(ids, c.ID)
		}
		if cursor = pg.NextCursor; cursor == "" || pages > 5 {
			break
		}
	}
	if want := []string{"a-portal", "automation", "b-portal", "tax-portal"}; !slices.Equal(ids, want) {
		t.Errorf("paged list: got %v, want %v", ids, want)
	}
	if r := api.do("GET", "/clients?cursor=%25%25", nil); r.status != http.StatusBadRequest {
		t.Errorf("bad cursor: got %d, want 400", r.status)
	}

	// Secret rotation with overlap; the old secret stops after it.
	api.do("PATCH", "/clients/tax-portal", map[string]any{"disabled": false})
	r = api.do("POST", "/clients/tax-portal/secret", map[string]any{"overlap_seconds": 600})
	var rot struct {
		ClientSecret string     `json:"client_secret"`
		Until        *time.Time `json:"previous_secret_valid_until"`
	}
	r.decode(t, &rot)
	if r.status != http.StatusOK || rot.ClientSecret == "" || rot.Until == nil {
		t.Fatalf("rotate: got %d %s", r.status, r.body)
	}
	if !clientAuth(t, e, "tax-portal", created.ClientSecret) || !clientAuth(t, e, "tax-portal", rot.ClientSecret) {
		t.Fatal("during the overlap both secrets must work")
	}
	e.clk.Advance(11 * time.Minute)
	if clientAuth(t, e, "tax-portal", created.ClientSecret) {
		t.Fatal("the old secret works after the overlap")
	}
	// The test clock moved past the access token's lifetime: it is refused
	// (x/oauth2 still trusts it by the wall clock); a new one works.
	if r := api.do("GET", "/clients/tax-portal", nil); r.status != http.StatusUnauthorized {
		t.Errorf("expired access token: got %d, want 401", r.status)
	}
	api = e.apiWith(t, "automation", apiSecret, nil)

	// Delete.
	if r := api.do("DELETE", "/clients/tax-portal", nil); r.status != http.StatusNoContent {
		t.Errorf("delete: got %d %s", r.status, r.body)
	}
	if r := api.do("GET", "/clients/tax-portal", nil); r.status != http.StatusNotFound {
		t.Errorf("get after delete: got %d, want 404", r.status)
	} else if p := r.problem(t); p["instance"] != "/admin/api/v1/clients/tax-portal" {
		t.Errorf("problem instance: got %v", p["instance"])
	}
	if r := api.do("DELETE", "/clients/tax-portal", nil); r.status != http.StatusNotFound {
		t.Errorf("delete again: got %d, want 404", r.status)
	}

	// The trail names the API client.
	evs := e.auditEvents("client.create")
	if len(evs) == 0 || evs[0].Actor != "client:automation" || evs[0].Details["via"] != "api" || evs[0].Details["roles"] != "rp-manager" {
		t.Errorf("client.create audit: got %+v", evs)
	}
}

// TestAdminAPIAuthorization: no token, a bad token, a citizen's token, a
// scope not granted, a role without the permission, a scope withdrawn.
func TestAdminAPIAuthorization(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	rpAPI, rpSecret := e.newAPIClient(t, "rp-bot", []string{"admin:rp-manager"}, nil)
	auditor, _ := e.newAPIClient(t, "audit-bot", []string{"admin:auditor"}, nil)
	owner, _ := e.newAPIClient(t, "owner-bot", []string{"admin:owner", "admin:helpdesk"}, []string{"admin:helpdesk"})

	anon := &apiClient{t: t, base: e.URL + "/admin/api/v1", http: http.DefaultClient}
	r := anon.do("GET", "/clients", nil)
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: got %d %v, want 401 with a Bearer challenge", r.status, r.header)
	}
	r.problem(t)
	bad := &apiClient{t: t, base: anon.base, http: oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "eyJhbGciOiJub25lIn0.e30."}))}
	if r := bad.do("GET", "/clients", nil); r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("forged token: got %d %v, want 401 invalid_token", r.status, r.header)
	}

	// A scope the client was not granted is refused at the token endpoint.
	greedy := e.apiWith(t, "rp-bot", rpSecret, []string{"admin:owner"})
	req, _ := http.NewRequest("GET", greedy.base+"/clients", nil)
	if _, err := greedy.http.Do(req); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("asking for admin:owner: got %v, want invalid_scope", err)
	}
	// A client without admin scopes cannot use the grant at all.
	plainSecret := e.addClient(t, oidcSpec("plain-portal", cbURL))
	plain := e.apiWith(t, "plain-portal", plainSecret, nil)
	req, _ = http.NewRequest("GET", plain.base+"/clients", nil)
	if _, err := plain.http.Do(req); err == nil {
		t.Error("client_credentials for a client without admin scopes: got a token, want refused")
	}

	// Roles decide.
	if r := rpAPI.do("GET", "/keys", nil); r.status != http.StatusForbidden || !strings.Contains(r.header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("rp-manager reading keys: got %d, want 403 insufficient_scope", r.status)
	}
	if r := auditor.do("GET", "/keys", nil); r.status != http.StatusOK {
		t.Errorf("auditor reading keys: got %d, want 200", r.status)
	}
	if r := auditor.do("POST", "/keys/rotate", nil); r.status != http.StatusForbidden {
		t.Errorf("auditor rotating keys: got %d, want 403", r.status)
	}
	if r := auditor.do("POST", "/clients", map[string]any{"id": "x1", "name": "X", "redirect_uris": []string{"https://a.example/cb"}}); r.status != http.StatusForbidden {
		t.Errorf("auditor creating a client: got %d, want 403", r.status)
	}
	// The owner bot asked only for admin:helpdesk: no keys.
	if r := owner.do("POST", "/keys/rotate", nil); r.status != http.StatusForbidden {
		t.Errorf("token with admin:helpdesk rotating keys: got %d, want 403", r.status)
	}

	// A scope withdrawn by an owner counts at once, even for a live token.
	if r := rpAPI.do("GET", "/clients", nil); r.status != http.StatusOK {
		t.Fatalf("rp-manager listing clients: got %d", r.status)
	}
	e.Store.UpdateClient(context.Background(), "rp-bot", func(c *store.Client) error { c.AdminScopes = nil; return nil })
	if r := rpAPI.do("GET", "/clients", nil); r.status != http.StatusForbidden {
		t.Errorf("after the scope was withdrawn: got %d, want 403", r.status)
	}

	// Unknown operations and methods are problems too.
	if r := auditor.do("GET", "/nothing", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown path: got %d, want 404", r.status)
	} else {
		r.problem(t)
	}
	if r := auditor.do("PUT", "/clients", nil); r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("wrong method: got %d Allow %q, want 405", r.status, r.header.Get("Allow"))
	}
	// Every issued token is in the audit log.
	if evs := e.auditEvents("oidc.client_credentials"); len(evs) < 3 {
		t.Errorf("oidc.client_credentials audit: got %d events, want one per token and refusal", len(evs))
	}
}

// TestAdminAPICitizensAndKeys covers the citizen and key operations.
func TestAdminAPICitizensAndKeys(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	api, _ := e.newAPIClient(t, "ops-bot", []string{"admin:owner"}, nil)
	citizen := e.addPerson(plainNumber, false)
	ctx := context.Background()

	var list struct {
		Items []struct {
			ID, Number string
		} `json:"items"`
	}
	api.do("GET", "/citizens?q="+plainNumber[:6], nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != citizen.id {
		t.Fatalf("search: got %+v", list)
	}
	var c struct {
		Disabled       bool `json:"disabled"`
		IdentityLevel  int  `json:"identity_level"`
		Authenticators []struct {
			Type string `json:"type"`
		} `json:"authenticators"`
	}
	r := api.do("GET", "/citizens/"+citizen.id, nil)
	r.decode(t, &c)
	if len(c.Authenticators) != 3 || strings.Contains(string(r.body), citizen.secret) {
		t.Errorf("citizen: got %s, want password, totp and recovery codes without secrets", r.body)
	}
	if r := api.do("POST", "/citizens/"+citizen.id+"/totp/reset", map[string]any{"reason": "short"}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("reset with a short reason: got %d, want 422", r.status)
	}
	if r := api.do("POST", "/citizens/"+citizen.id+"/totp/reset", map[string]any{"reason": "phone stolen, checked in person"}); r.status != http.StatusNoContent {
		t.Errorf("reset: got %d %s", r.status, r.body)
	}
	if r := api.do("POST", "/citizens/"+citizen.id+"/totp/reset", map[string]any{"reason": "phone stolen, checked in person"}); r.status != http.StatusConflict {
		t.Errorf("reset twice: got %d, want 409", r.status)
	}

	// Passkeys: one by its credential_ref, then all; never an ID or a key.
	phone := e.addPasskey(citizen.id, "Điện thoại", false)
	e.addPasskey(citizen.id, "Khoá", true)
	r = api.do("GET", "/citizens/"+citizen.id, nil)
	if body := string(r.body); strings.Contains(body, base64.RawURLEncoding.EncodeToString(phone)) || strings.Contains(body, base64.StdEncoding.EncodeToString(phone)) ||
		!strings.Contains(body, `"credential_ref":"`+webauthn.Fingerprint(phone)+`"`) {
		t.Errorf("citizen with passkeys: got %s, want references, not IDs", body)
	}
	passkeyReset := "/citizens/" + citizen.id + "/webauthn/reset"
	reason := "phone stolen, checked in person"
	if r := api.do("POST", passkeyReset, map[string]any{"reason": "short", "credential_ref": webauthn.Fingerprint(phone)}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("passkey removal with a short reason: got %d, want 422", r.status)
	}
	if r := api.do("POST", passkeyReset, map[string]any{"reason": reason, "credential_ref": "0011223344556677"}); r.status != http.StatusNotFound {
		t.Errorf("removing an unknown passkey: got %d, want 404", r.status)
	}
	if r := api.do("POST", passkeyReset, map[string]any{"reason": reason, "credential_id": "x"}); r.status != http.StatusBadRequest {
		t.Errorf("unknown field: got %d, want 400", r.status)
	}
	if n := len(e.passkeys(citizen.id)); n != 2 {
		t.Fatalf("after refused removals: got %d passkeys, want 2", n)
	}
	var removed struct {
		Removed int `json:"removed"`
	}
	api.do("POST", passkeyReset, map[string]any{"reason": reason, "credential_ref": webauthn.Fingerprint(phone)}).decode(t, &removed)
	if left := e.passkeys(citizen.id); removed.Removed != 1 || len(left) != 1 || left[0].Name != "Khoá" {
		t.Errorf("remove one: got %d removed, %d left, want 1 and the key", removed.Removed, len(left))
	}
	api.do("POST", passkeyReset, map[string]any{"reason": reason}).decode(t, &removed)
	if removed.Removed != 1 || len(e.passkeys(citizen.id)) != 0 {
		t.Errorf("remove all: got %d removed, %d left", removed.Removed, len(e.passkeys(citizen.id)))
	}
	if r := api.do("POST", passkeyReset, map[string]any{"reason": reason}); r.status != http.StatusConflict {
		t.Errorf("remove with none left: got %d, want 409", r.status)
	}
	if evs := e.auditEvents("webauthn.reset"); len(evs) != 2 || evs[0].Actor != "client:ops-bot" || evs[0].Details["via"] != "api" || evs[0].Details["reason"] != reason {
		t.Errorf("webauthn.reset audit: got %+v", evs)
	}
	// A helpdesk client may not touch an administrator's passkeys.
	hdAPI, _ := e.newAPIClient(t, "helpdesk-bot", []string{"admin:helpdesk"}, nil)
	admin := e.addPerson(ownerNumber, true, "owner")
	e.addPasskey(admin.id, "Owner key", false)
	if r := hdAPI.do("POST", "/citizens/"+admin.id+"/webauthn/reset", map[string]any{"reason": reason}); r.status != http.StatusForbidden || len(e.passkeys(admin.id)) != 1 {
		t.Errorf("helpdesk removing an owner's passkey: got %d, %d left, want 403 and 1", r.status, len(e.passkeys(admin.id)))
	}

	api.do("POST", "/citizens/"+citizen.id+"/disable", nil).decode(t, &c)
	if !c.Disabled {
		t.Error("disable: citizen not disabled")
	}
	api.do("PUT", "/citizens/"+citizen.id+"/identity-level", map[string]any{"identity_level": 2}).decode(t, &c)
	if c.IdentityLevel != 2 {
		t.Errorf("identity level: got %d, want 2", c.IdentityLevel)
	}
	if r := api.do("PUT", "/citizens/"+citizen.id+"/identity-level", map[string]any{"identity_level": 3}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("identity level 3: got %d, want 422", r.status)
	}
	if r := api.do("DELETE", "/citizens/"+citizen.id+"/sessions", nil); r.status != http.StatusOK {
		t.Errorf("end sessions: got %d", r.status)
	}
	if r := api.do("GET", "/citizens/nobody", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown citizen: got %d, want 404", r.status)
	}

	var rotated struct {
		Active string `json:"active"`
	}
	api.do("POST", "/keys/rotate", nil).decode(t, &rotated)
	keys, _ := e.Keys.List(ctx)
	for _, k := range keys {
		if k.ID == rotated.Active && k.State != store.KeyActive {
			t.Errorf("rotated: %s is %s, want active", k.ID, k.State)
		}
	}
	if r := api.do("POST", "/keys/"+rotated.Active+"/retire", nil); r.status != http.StatusConflict {
		t.Errorf("retire the active key: got %d, want 409", r.status)
	}
}

// TestAdminAPIOpenAPIServed: the description is public JSON.
func TestAdminAPIOpenAPIServed(t *testing.T) {
	e := start(t, false, nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	getJSON(t, e.URL+"/admin/api/openapi.json", &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Errorf("openapi.json: got version %q and %d paths", doc.OpenAPI, len(doc.Paths))
	}
}
