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

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/browsertest"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/ui"
)

// consoleTab opens a Chromium tab holding the console session of b (a
// console login over HTTP), in lang.
func consoleTab(t *testing.T, e *adminEnv, b *browser, lang string) context.Context {
	t.Helper()
	ctx := browsertest.New(t, 120*time.Second)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.URL)
	cookies := append(b.c.Jar.Cookies(u), &http.Cookie{Name: server.LangCookie, Value: lang})
	for _, c := range cookies {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: e.URL + "/"}); err != nil {
			t.Fatalf("set cookie %s: %v", c.Name, err)
		}
	}
	return ctx
}

// formCheck is what the browser reads of a form's error summary and the
// fields it links to.
type formCheck struct {
	Focused bool   `json:"focused"`
	Role    string `json:"role"`
	Links   []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Fields []struct {
		ID      string `json:"id"`
		Invalid string `json:"invalid"`
		Message string `json:"message"`
		Marked  bool   `json:"marked"`
	} `json:"fields"`
	Body string `json:"body"`
}

const formCheckJS = `(() => {
  const s = document.getElementById('error-summary');
  if (!s) return {body: document.body.innerText};
  const links = [...s.querySelectorAll('a')].map(a => ({href: a.getAttribute('href'), text: a.textContent.trim()}));
  const fields = links.map(l => {
    const id = l.href.slice(1), el = document.getElementById(id);
    if (!el) return {id: id};
    const msg = (el.getAttribute('aria-describedby') || '').split(/\s+/).map(i => document.getElementById(i))
      .find(m => m && m.classList.contains('field-error'));
    return {id: id, invalid: el.getAttribute('aria-invalid') || '', message: msg ? msg.textContent.trim() : '',
      marked: !!el.closest('.field.invalid')};
  });
  return {focused: document.activeElement === s, role: s.getAttribute('role'), links: links, fields: fields, body: document.body.innerText};
})()`

// A client form with three invalid fields shows three messages, each
// beside its field (aria-describedby, aria-invalid, a marker) and linked
// from a summary that takes the focus; in Vietnamese and in English, with
// no English rule detail on the Vietnamese page.
func TestConsoleFormErrorsInBrowser(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	rpm := e.addPerson(rpNumber, false, "rp-manager")
	cat, err := ui.Load(ui.Shipped())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			b, _ := e.adminBrowser(rpm)
			ctx := consoleTab(t, e, b, lang)
			err := chromedp.Do(ctx,
				chromedp.Navigate(e.URL+"/admin/clients/new"),
				chromedp.WaitVisible(chromedp.ID("client-form")),
				chromedp.SendKeys(chromedp.ID("id"), "portal-"+lang),
				chromedp.SendKeys(chromedp.ID("logo_url"), "http://logo.example.gov.vn/x.png"),
				chromedp.SendKeys(chromedp.ID("redirect_uris"), "https://*.example.gov.vn/cb"),
				chromedp.Click(chromedp.ID("save-client")),
				chromedp.WaitVisible(chromedp.ID("error-summary")),
			)
			if err != nil {
				t.Fatalf("submit the form: %v", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === 'error-summary'`)); err != nil {
				t.Errorf("the error summary never took the focus: %v", err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[formCheck](formCheckJS))
			if err != nil {
				t.Fatal(err)
			}
			msgs, en := cat.Messages(lang), cat.Messages("en")
			want := map[string]string{
				"#name":          msgs["admin_err_client_name"],
				"#logo_url":      msgs["admin_err_logo_url"],
				"#redirect_uris": msgs["admin_err_redirect_uri"] + ": https://*.example.gov.vn/cb",
			}
			if got.Role != "alert" || len(got.Links) != 3 || len(got.Fields) != 3 {
				t.Fatalf("summary: got role %q, %d links %+v, want an alert with 3 links; page: %.800s", got.Role, len(got.Links), got.Links, got.Body)
			}
			for i, l := range got.Links {
				f := got.Fields[i]
				if want[l.Href] == "" || l.Text != want[l.Href] {
					t.Errorf("summary link %s: got %q, want %q", l.Href, l.Text, want[l.Href])
				}
				if f.Invalid != "true" || f.Message != l.Text || !f.Marked {
					t.Errorf("field %s: got aria-invalid %q, message %q, marked %v; want true, %q (aria-describedby), marked",
						f.ID, f.Invalid, f.Message, f.Marked, l.Text)
				}
			}
			if lang == "vi" {
				for _, english := range []string{en["admin_err_client_name"], en["admin_err_logo_url"], en["admin_err_redirect_uri"],
					"wildcards are not allowed", "1 to 200 characters", "an https URL"} {
					if strings.Contains(got.Body, english) {
						t.Errorf("the Vietnamese page shows English: %q", english)
					}
				}
			}
		})
	}
}

// The console's skip link leads past its navigation: the target comes
// after the navigation in the document and does not contain it.
func TestConsoleSkipLinkSkipsNavigation(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	owner := e.addPerson(ownerNumber, false, "owner")
	b, _ := e.adminBrowser(owner)
	ctx := consoleTab(t, e, b, "vi")
	const js = `(() => {
  const a = document.querySelector('a.skip'), nav = document.querySelector('nav.admin-nav');
  const target = a && document.querySelector(a.getAttribute('href'));
  return !!(target && nav && !target.contains(nav) && (nav.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING)
    && target.querySelector('h1'));
})()`
	for _, path := range []string{"/admin", "/admin/clients", "/admin/clients/new", "/admin/audit", "/admin/citizens", "/admin/admins"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+path), chromedp.WaitVisible(chromedp.CSS("nav.admin-nav"))); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil || !ok {
			t.Errorf("%s: the skip link's target does not come after the navigation (%v)", path, err)
		}
	}
}

// The page that shows a new client's secret shows its client id on a
// row of its own, whole, on a phone's screen.
func TestConsoleSecretPageShowsClientID(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	rpm := e.addPerson(rpNumber, false, "rp-manager")
	b, _ := e.adminBrowser(rpm)
	ctx := consoleTab(t, e, b, "vi")
	id := "so-tai-nguyen-moi-truong.cong-dich-vu-cong-truc-tuyen.portal-2b6" // 64, the longest
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/admin/clients/new"),
		chromedp.WaitVisible(chromedp.ID("client-form")),
		chromedp.SendKeys(chromedp.ID("id"), id),
		chromedp.SendKeys(chromedp.ID("name"), "Cổng dịch vụ công"),
		chromedp.SendKeys(chromedp.ID("redirect_uris"), "https://dvc.example.gov.vn/cb"),
		chromedp.Click(chromedp.ID("save-client")),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
	)
	if err != nil {
		t.Fatalf("create the client: %v", err)
	}
	type box struct {
		Text                  string
		Whole, OwnRow, InView bool
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => {
  const c = document.getElementById('client-id'), s = document.getElementById('client-secret');
  const cr = c.getBoundingClientRect(), sr = s.getBoundingClientRect();
  return {Text: c.textContent, Whole: c.scrollWidth <= c.clientWidth + 1, OwnRow: cr.bottom <= sr.top,
    InView: cr.right <= document.documentElement.clientWidth + 1};
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != id || !got.Whole || !got.OwnRow || !got.InView {
		t.Errorf("client id on the secret page: got %+v, want %q whole, on its own row, within the screen", got, id)
	}
}

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
