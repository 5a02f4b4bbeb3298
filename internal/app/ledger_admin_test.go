package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

// The console counts releases per portal for everyone on the dashboard and
// shows one citizen's entries to an auditor only, auditing each opening.
func TestAdminLedger(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	au := e.addPerson(auditorNumber, false, "auditor")
	hd := e.addPerson(helpdeskNumber, false, "helpdesk")
	citizen := e.addPerson(plainNumber, false)
	var entries []store.LedgerEntry
	for i, portal := range []string{"tax", "tax", "health"} {
		entries = append(entries, store.LedgerEntry{ID: "e" + string(rune('a'+i)), Time: e.clk.Now(), CitizenID: citizen.id,
			Portal: "oidc:" + portal, PortalName: "Cổng <i>" + portal + "</i>", Protocol: store.LedgerOIDC,
			Endpoint: store.EndpointToken, Attributes: []string{"name", "birthdate"}, Level: 2})
	}
	if err := e.Store.AppendLedger(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	ledgerPath := "/admin/citizens/" + citizen.id + "/ledger"

	tests := []struct {
		name       string
		p          person
		wantLedger int
	}{
		{"auditor", au, http.StatusOK},
		{"helpdesk", hd, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, dash := e.adminBrowser(tt.p)
			if !strings.Contains(dash.body, `id="releases"`) || !strings.Contains(dash.body, `Cổng &lt;i&gt;tax&lt;/i&gt;`) ||
				!strings.Contains(dash.body, `id="stat-releases">3<`) {
				t.Errorf("dashboard: got no escaped counts per portal: %.3000s", dash.body)
			}
			if strings.Contains(dash.body, citizen.number) || strings.Contains(dash.body, citizen.id) {
				t.Error("dashboard: names a citizen")
			}
			before := len(e.auditEvents("ledger.view"))
			pg := b.get(e.URL + ledgerPath)
			if pg.status != tt.wantLedger {
				t.Fatalf("GET %s: got %d, want %d", ledgerPath, pg.status, tt.wantLedger)
			}
			evs := e.auditEvents("ledger.view")
			if tt.wantLedger != http.StatusOK {
				if len(evs) != before {
					t.Errorf("ledger.view events after a refusal: got %d, want %d", len(evs), before)
				}
				return
			}
			if n := strings.Count(pg.body, `class="ledger-entry"`); n != 3 {
				t.Errorf("citizen ledger: got %d entries, want 3", n)
			}
			if strings.Contains(pg.body, "<i>tax") {
				t.Error("citizen ledger: the portal's name is not escaped")
			}
			if len(evs) != before+1 || evs[len(evs)-1].Target != "citizen:"+citizen.id || evs[len(evs)-1].Actor != "admin:"+tt.p.id {
				t.Errorf("ledger.view: got %+v, want one event by the auditor naming the citizen", evs)
			}
		})
	}
}
