package app_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

var whoRE = regexp.MustCompile(`<span id="admin-who">([^<]*)</span>`)

// Every console page, as each role, shows the signed-in administrator's
// own name and roles in the header: never a viewed citizen's roles nor a
// page's own list (view fields named like the chrome's once hid it).
func TestAdminHeaderOnEveryPage(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	ctx := context.Background()
	owner := e.addPerson(ownerNumber, false, "owner")
	viewed := e.addPerson("001080000009", false, "auditor", "helpdesk") // a citizen with roles of their own
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	e.adminBrowser(owner) // a console login is audited: an event to open
	evs, err := e.Store.ListAudit(ctx, store.AuditFilter{Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("audit events: %v %v", evs, err)
	}
	pages := []string{"/admin", "/admin/citizens", "/admin/citizens/" + viewed.id, "/admin/citizens/" + viewed.id + "/ledger",
		"/admin/clients", "/admin/clients/new", "/admin/clients/portal", "/admin/sps", "/admin/sps/new", "/admin/keys",
		"/admin/audit", "/admin/audit/" + itoa(evs[0].Seq), "/admin/admins"}
	people := map[string]person{"owner": owner}
	for i, role := range []string{"rp-manager", "helpdesk", "auditor"} {
		people[role] = e.addPerson("00108000002"+itoa(int64(i)), false, role)
	}
	for role, p := range people {
		b, _ := e.adminBrowser(p)
		seen := 0
		for _, path := range pages {
			pg := b.get(e.URL + path)
			if pg.status == http.StatusForbidden {
				continue
			}
			if pg.status != http.StatusOK {
				t.Errorf("%s %s: got %d", role, path, pg.status)
				continue
			}
			seen++
			m := whoRE.FindStringSubmatch(pg.body)
			if m == nil || !strings.HasSuffix(m[1], " · "+role) {
				t.Errorf("%s %s: header %q, want the name and %q", role, path, m, role)
			}
		}
		if seen < 3 {
			t.Errorf("%s: only %d pages rendered", role, seen)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The audit log's CSV starts with a byte-order mark (spreadsheets then
// read Vietnamese) and neutralises cells a spreadsheet would run.
func TestAdminAuditCSV(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	e.Audit.Record(context.Background(), audit.Event{Actor: "cli", Action: "citizen.update", Target: `=HYPERLINK("http://evil")`,
		Outcome: "success", Details: map[string]string{"name": "Nguyễn Văn An"}})
	b, _ := e.adminBrowser(owner)
	pg := b.get(e.URL + "/admin/audit/export.csv")
	if pg.status != http.StatusOK || !strings.HasPrefix(pg.body, "\ufeffseq,time,actor,action") {
		t.Fatalf("export: got %d %.80q, want a BOM then the header", pg.status, pg.body)
	}
	if !strings.Contains(pg.body, `'=HYPERLINK(`) || !strings.Contains(pg.body, "Nguyễn Văn An") {
		t.Errorf("export: formula not neutralised or name lost: %.600s", pg.body)
	}
}
