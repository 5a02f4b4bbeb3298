package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/config"
)

var (
	optionRE = regexp.MustCompile(`<option value="([^"]*)"`)
	selectRE = regexp.MustCompile(`(?s)<select id="(action|outcome)" name="[a-z]+">(.*?)</select>`)
)

// The audit log filters by actions and outcomes chosen from the values
// CitizenID records, names the citizen behind an actor or target, and
// shows times in the console's zone with the offset.
func TestConsoleAuditLogPage(t *testing.T) {
	e := newAdminEnv(t, false, func(c *config.Config) { c.Admin.TimeZone = "Asia/Ho_Chi_Minh" })
	owner := e.addPerson(ownerNumber, false, "owner")
	viewed := e.addPerson(plainNumber, false)
	e.Audit.Record(context.Background(), audit.Event{Actor: "admin:" + owner.id, Action: "citizen.update", Target: "citizen:" + viewed.id,
		Outcome: "success"})
	b, _ := e.adminBrowser(owner)
	pg := b.get(e.URL + "/admin/audit")
	if pg.status != http.StatusOK {
		t.Fatalf("audit log: got %d", pg.status)
	}
	pg.body = unescape(pg.body)
	selects := map[string][]string{}
	for _, m := range selectRE.FindAllStringSubmatch(pg.body, -1) {
		for _, o := range optionRE.FindAllStringSubmatch(m[2], -1) {
			selects[m[1]] = append(selects[m[1]], o[1])
		}
	}
	for name, want := range map[string][]string{
		"action":  {"", "admin.login", "client.create", "citizen.update", "login.password", "login.totp"},
		"outcome": {"", "success", "failure", "throttled"},
	} {
		for _, w := range want {
			if !strings.Contains(" "+strings.Join(selects[name], " ")+" ", " "+w+" ") {
				t.Errorf("%s filter: got options %q, want %q among them", name, selects[name], w)
			}
		}
	}
	viewedName := mustName(t, e, viewed.id)
	ownerName := mustName(t, e, owner.id)
	for _, want := range []string{
		`<code>citizen:` + viewed.id + `</code> <span class="who-name">` + viewedName + `</span>`,
		`<code>admin:` + owner.id + `</code> <span class="who-name">` + ownerName + `</span>`,
		"Asia/Ho_Chi_Minh, +07:00",
	} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("audit log: want %q, got %.1500s", want, pg.body)
		}
	}
	// The time of the event, in the zone with its offset.
	evs := e.auditEvents("citizen.update")
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	if when := evs[len(evs)-1].Time.In(loc).Format("2006-01-02 15:04:05") + " +07:00"; !strings.Contains(pg.body, "<td>"+when+"</td>") {
		t.Errorf("audit log: want the time %q, got %.1500s", when, pg.body)
	}
	// The filter by a chosen action keeps only that action.
	pg = b.get(e.URL + "/admin/audit?" + url.Values{"action": {"citizen.update"}}.Encode())
	if !strings.Contains(pg.body, `<option value="citizen.update" selected>`) || strings.Contains(pg.body, "<td>admin.login</td>") {
		t.Errorf("filtered audit log: want citizen.update selected and no admin.login rows, got %.1500s", pg.body)
	}
}

func mustName(t *testing.T, e *adminEnv, id string) string {
	t.Helper()
	c, err := e.Store.CitizenByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Name
}

// admin.time_zone must name a zone the server can load.
func TestConsoleTimeZoneConfig(t *testing.T) {
	c := config.Default()
	if c.Admin.TimeZone != "Asia/Ho_Chi_Minh" {
		t.Errorf("admin.time_zone default: got %q, want Asia/Ho_Chi_Minh", c.Admin.TimeZone)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus_Mons"} {
		c.Admin.TimeZone = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "admin.time_zone") {
			t.Errorf("admin.time_zone %q: got %v, want a problem named", bad, err)
		}
	}
}
