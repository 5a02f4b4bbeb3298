package admin

import (
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/templates"
)

// TestOpenAPIMatchesRoutes checks openapi.json against the API's routes:
// the same operations, each documented with the scopes that the role
// table actually admits, and a document that holds together (references
// resolve, path parameters are declared, operation IDs are unique).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi: got %q, want 3.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Error("info: want title and version")
	}
	servers, _ := doc["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["url"] != apiPrefix {
		t.Fatalf("servers: got %v, want one with url %s", servers, apiPrefix)
	}

	documented := map[string]map[string]any{} // "GET /admin/api/v1/clients" → operation
	paths, _ := doc["paths"].(map[string]any)
	opIDs := map[string]bool{}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	for p, item := range paths {
		it := item.(map[string]any)
		for method, op := range it {
			if method == "parameters" {
				continue
			}
			o := op.(map[string]any)
			key := strings.ToUpper(method) + " " + apiPrefix + p
			documented[key] = o
			id, _ := o["operationId"].(string)
			if id == "" || opIDs[id] {
				t.Errorf("%s: operationId %q missing or repeated", key, id)
			}
			opIDs[id] = true
			if resp, _ := o["responses"].(map[string]any); len(resp) == 0 {
				t.Errorf("%s: no responses", key)
			} else {
				for code := range resp {
					if code != "default" && !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(code) {
						t.Errorf("%s: response code %q", key, code)
					}
				}
			}
			declared := map[string]bool{}
			for _, ps := range [][]any{asList(it["parameters"]), asList(o["parameters"])} {
				for _, prm := range ps {
					pm := resolve(t, doc, prm)
					if pm["in"] == "path" {
						if pm["required"] != true {
							t.Errorf("%s: path parameter %v is not required", key, pm["name"])
						}
						declared[pm["name"].(string)] = true
					}
				}
			}
			for _, m := range param.FindAllStringSubmatch(p, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %s not declared", key, m[1])
				}
			}
		}
	}
	checkRefs(t, doc, doc)

	a := &Admin{}
	routes := map[string]apiRoute{}
	for _, rt := range a.apiRoutes() {
		routes[rt.method+" "+rt.path] = rt
	}
	for key := range routes {
		if documented[key] == nil {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	flows := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)["clientCredentials"].(map[string]any)["flows"].(map[string]any)
	known := flows["clientCredentials"].(map[string]any)["scopes"].(map[string]any)
	for key, op := range documented {
		rt, ok := routes[key]
		if !ok {
			t.Errorf("openapi.json documents %s, which is not a route", key)
			continue
		}
		var want []string
		for _, r := range Roles {
			if allowed([]Role{r}, rt.p) {
				want = append(want, r.Scope())
			}
		}
		var got []string
		for _, req := range asList(op["security"]) {
			for _, s := range asList(req.(map[string]any)["clientCredentials"]) {
				got = append(got, s.(string))
				if known[s.(string)] == nil {
					t.Errorf("%s: scope %v not declared in the security scheme", key, s)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: documented scopes %v, want %v (the roles that may)", key, got, want)
		}
	}
	if len(known) != len(Roles) {
		t.Errorf("security scheme scopes: got %d, want one per role", len(known))
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// resolve follows a local $ref.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cm, ok := cur.(map[string]any)
		if !ok || cm[part] == nil {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		cur = cm[part]
	}
	return cur.(map[string]any)
}

// checkRefs resolves every $ref in the document.
func checkRefs(t *testing.T, doc map[string]any, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["$ref"]; ok {
			resolve(t, doc, x)
		}
		for _, c := range x {
			checkRefs(t, doc, c)
		}
	case []any:
		for _, c := range x {
			checkRefs(t, doc, c)
		}
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role    Role
		allow   []perm
		refuses []perm
	}{
		{RoleOwner, []perm{permKeysWrite, permAdmins, permIdentityLevel, permAuditRead, permRPWrite, permCitizensWrite}, nil},
		{RoleRPManager, []perm{permRPRead, permRPWrite}, []perm{permKeysRead, permCitizensRead, permAuditRead, permAdmins}},
		{RoleHelpdesk, []perm{permCitizensRead, permCitizensWrite}, []perm{permIdentityLevel, permRPRead, permKeysRead, permAdmins}},
		{RoleAuditor, []perm{permAuditRead, permRPRead, permKeysRead}, []perm{permRPWrite, permKeysWrite, permCitizensWrite, permAdmins, permCitizensRead}},
	}
	for _, tt := range tests {
		for _, p := range tt.allow {
			if !allowed([]Role{tt.role}, p) {
				t.Errorf("%s: got perm %d refused, want allowed", tt.role, p)
			}
		}
		for _, p := range tt.refuses {
			if allowed([]Role{tt.role}, p) {
				t.Errorf("%s: got perm %d allowed, want refused", tt.role, p)
			}
		}
		if !allowed([]Role{tt.role}, permDashboard) {
			t.Errorf("%s: got no dashboard, want it", tt.role)
		}
	}
	if allowed(nil, permDashboard) {
		t.Error("no role: got the dashboard, want nothing")
	}
	if got := parseRoles([]string{"auditor", "root", "owner"}); !slices.Equal(got, []Role{RoleOwner, RoleAuditor}) {
		t.Errorf("parseRoles: got %v, want [owner auditor]", got)
	}
	for _, s := range []string{"admin:owner", "admin:auditor"} {
		if _, ok := roleOfScope(s); !ok {
			t.Errorf("roleOfScope(%q): got not a role", s)
		}
	}
	for _, s := range []string{"owner", "admin:root", "openid", "admin:"} {
		if _, ok := roleOfScope(s); ok {
			t.Errorf("roleOfScope(%q): got a role, want none", s)
		}
	}
}

func TestPageClients(t *testing.T) {
	var all []store.Client
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		all = append(all, store.Client{ID: id})
	}
	ids := func(cs []store.Client) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		after     string
		n         int
		want, nxt string
	}{
		{"", 2, "a,b", "b"},
		{"b", 2, "c,d", "d"},
		{"d", 2, "e", ""},
		{"bb", 2, "c,d", "d"}, // a cursor between IDs (the client was deleted)
		{"e", 2, "", ""},
		{"", 5, "a,b,c,d,e", ""},
	}
	for _, tt := range tests {
		got, next := pageClients(all, tt.after, tt.n)
		if ids(got) != tt.want || next != tt.nxt {
			t.Errorf("pageClients(after %q, %d): got %q next %q, want %q next %q", tt.after, tt.n, ids(got), next, tt.want, tt.nxt)
		}
	}
}

func TestSafeReturn(t *testing.T) {
	for p, want := range map[string]bool{
		"/admin":                       true,
		"/admin/clients/x?confirmed=1": true,
		"/admin?done=x":                true,
		"/administrator":               false,
		"//evil.example/admin":         false,
		"https://evil.example/admin":   false,
		"/admin/\\evil":                false,
		"/admin/api/v1/keys":           false,
		"/account/security":            false,
	} {
		if got := safeReturn(p); got != want {
			t.Errorf("safeReturn(%q): got %v, want %v", p, got, want)
		}
	}
}

// TestPagesParse: every console page parses with the layout and the
// shared parts (the server would refuse to start otherwise).
func TestPagesParse(t *testing.T) {
	srv, err := server.NewRenderer(templates.FS, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newRenderer(srv); err != nil {
		t.Error(err)
	}
}
