package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
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

var (
	svgRE   = regexp.MustCompile(`(?s)<section aria-labelledby="(chart-[a-z]+)-h" class="chart".*?<svg role="img" aria-labelledby="[a-z-]+"[^>]*>\s*<title id="[a-z-]+">([^<]*)</title>(.*?)</svg>.*?<tfoot><tr><th scope="row">[^<]*</th>(.*?)</tr></tfoot>`)
	tdNumRE = regexp.MustCompile(`<td class="num">(\d+)</td>`)
)

// The dashboard charts the last 24 hours of logins as inline SVG (an
// image with a text alternative) with the same numbers in a table.
func TestConsoleDashboardCharts(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	e.addPerson(plainNumber, true)
	// A wrong password, then the owner's console login (password + code).
	b := newBrowser(t)
	pg := b.get(e.URL + "/admin")
	b.login(e.URL, pg, plainNumber, "not the password")
	b, _ = e.adminBrowser(owner)
	count := func(action, outcome string) int {
		n := 0
		for _, ev := range e.auditEvents(action) {
			if ev.Outcome == outcome {
				n++
			}
		}
		return n
	}
	pwOK, totpOK, pwBad := count("login.password", "success"), count("login.totp", "success"), count("login.password", "failure")
	if pwOK == 0 || totpOK == 0 || pwBad == 0 {
		t.Fatalf("audit: got %d password, %d code successes and %d failures, want some of each", pwOK, totpOK, pwBad)
	}
	pg = b.get(e.URL + "/admin")
	charts := map[string][]string{}
	for _, m := range svgRE.FindAllStringSubmatch(pg.body, -1) {
		if !strings.Contains(m[3], "<rect ") {
			t.Errorf("%s: no bars in the SVG", m[1])
		}
		var totals []string
		for _, td := range tdNumRE.FindAllStringSubmatch(m[4], -1) {
			totals = append(totals, td[1])
		}
		charts[m[1]] = append([]string{m[2]}, totals...)
	}
	if len(charts) != 3 {
		t.Fatalf("dashboard: got charts %q, want 3; page %.2000s", charts, pg.body)
	}
	i := strconv.Itoa
	for id, want := range map[string][]string{
		"chart-method":   {i(pwOK), i(totpOK)},                             // password, code, ...
		"chart-level":    {i(pwOK), i(totpOK), "0", "0"},                   // levels 1 to 4
		"chart-problems": {i(pwBad + count("login.totp", "failure")), "0"}, // failures, throttled
	} {
		got := charts[id]
		if len(got) < len(want)+1 {
			t.Errorf("%s: got %q, want totals %q", id, got, want)
			continue
		}
		for k, w := range want {
			if got[k+1] != w {
				t.Errorf("%s: total %d: got %s, want %s (%q)", id, k, got[k+1], w, got)
			}
		}
	}
	if !strings.Contains(charts["chart-method"][0], "Mật khẩu: "+i(pwOK)) {
		t.Errorf("chart-method: the image's text alternative %q does not say the count", charts["chart-method"][0])
	}
	if strings.Contains(pg.body, "style=") {
		t.Errorf("dashboard: an inline style attribute (the CSP forbids it)")
	}
	if rows := strings.Count(pg.body, `<th scope="row">`); rows < 3*24 {
		t.Errorf("dashboard: got %d table rows, want 24 per chart", rows)
	}
}
