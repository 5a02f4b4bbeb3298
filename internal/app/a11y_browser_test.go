package app_test

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/citizenid/citizenid/internal/browsertest"
	"github.com/citizenid/citizenid/internal/clients"
)

// axeSource is axe-core, installed by scripts/install-deps.sh (make
// test runs it). Missing, the test fails: an accessibility check that
// can quietly not run is no check.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "tools", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (scripts/install-deps.sh installs it): %v", err)
	}
	return string(b)
}

// axeRun checks the page in the tab against WCAG 2.1 A and AA and returns
// each violation as "rule: targets".
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(r => ({passes: r.passes.length, violations: r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))}))`

type axeResult struct {
	Passes     int
	Violations []string
}

// wayOutJS counts what leads somewhere in the page's main content: links
// and buttons (the language switcher is in the header).
const wayOutJS = `document.querySelectorAll("main a[href], main button").length`

// linksJS lists the page's same-origin links.
const linksJS = `[...document.querySelectorAll("a[href]")].map(a => a.href).filter(h => h.startsWith(location.origin))`

// crawlable reports whether a link of the crawl is a page to visit: not a
// download, an action or the console.
func crawlable(u *url.URL, console bool) bool {
	p := u.Path
	if console != (p == "/admin" || strings.HasPrefix(p, "/admin/")) {
		return false
	}
	for _, skip := range []string{"/admin/api", "/admin/assets/", "/account/export", "/static/", "/web/", "/portal-logo/", "/demo/"} {
		if strings.HasPrefix(p, skip) {
			return false
		}
	}
	return !strings.HasSuffix(p, "/txt") && !strings.HasSuffix(p, ".csv") && u.Query().Get("format") != "csv"
}

// TestBrowserPagesAccessibleAndLeadSomewhere crawls every citizen page a
// visitor and a signed-in citizen reach by following links from "/", plus
// the login steps a portal starts and an error page, then every console
// page an owner reaches from /admin, at a desktop and a phone width, in
// Vietnamese and English: axe-core finds no WCAG 2.1 A/AA violation on
// any, and each offers a way on in its content.
func TestBrowserPagesAccessibleAndLeadSomewhere(t *testing.T) {
	ae := newAdminEnv(t, false, nil)
	e := ae.env
	e.addCitizen(t, testNumber, testPassword)
	owner := ae.addPerson(ownerNumber, false, "owner")
	e.addClient(t, clients.Spec{ID: "portal", Name: "Cổng dịch vụ thuế", RedirectURIs: []string{cbURL}, MinLevel: 3})
	ctx := browsertest.New(t, 8*time.Minute) // without Chromium outside CI: skipped here, before axe is needed
	axe := axeSource(t)

	type visit struct{ url string }
	check := func(t *testing.T, lang string, width int64, v visit) {
		t.Helper()
		mobile := width < 600
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride,
			emulation.SetDeviceMetricsOverrideParams{Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: mobile})
		if err == nil {
			err = chromedp.Do(ctx, chromedp.Navigate(v.url), chromedp.WaitReady(chromedp.CSS("body")))
		}
		if err != nil {
			t.Fatalf("%s: %v", v.url, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
			t.Fatalf("load axe on %s: %v", v.url, err)
		}
		res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise))
		if err != nil || res.Passes == 0 {
			t.Fatalf("axe on %s: %v (%d rules passed: did it run?)", v.url, err, res.Passes)
		}
		for _, viol := range res.Violations {
			t.Errorf("%s at %dpx in %s: %s", v.url, width, lang, viol)
		}
		if ways, err := chromedp.Run(ctx, chromedp.Evaluate[int](wayOutJS)); err != nil || ways == 0 {
			t.Errorf("%s in %s: no way on in the page (%v)", v.url, lang, err)
		}
	}
	// crawl visits every page reachable from start by links (bounded) and
	// returns them in the order found.
	crawl := func(t *testing.T, console bool, start ...string) []string {
		t.Helper()
		seen := map[string]bool{}
		queue := slices.Clone(start)
		var out []string
		for len(queue) > 0 && len(out) < 60 {
			u := queue[0]
			queue = queue[1:]
			if seen[u] {
				continue
			}
			seen[u] = true
			err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
			if err != nil {
				t.Fatalf("crawl %s: %v", u, err)
			}
			links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](linksJS))
			if err != nil {
				t.Fatalf("links of %s: %v", u, err)
			}
			out = append(out, u)
			for _, l := range links {
				p, err := url.Parse(l)
				if err != nil || !crawlable(p, console) {
					continue
				}
				p.Fragment = ""
				if k := p.String(); !seen[k] {
					queue = append(queue, k)
				}
			}
		}
		return out
	}

	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			base, _ := url.Parse(e.URL)
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
			_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "citizenid_lang", Value: lang, Domain: base.Hostname(), Path: "/"})
			if err != nil {
				t.Fatal(err)
			}
			// A visitor.
			pages := crawl(t, false, e.URL+"/")
			// A portal's login steps: the password, then the unmet level;
			// an error page.
			err = chromedp.Do(ctx,
				chromedp.Navigate(authorize(e, map[string]string{"acr_values": "urn:citizenid:loa:3"})),
				chromedp.WaitVisible(chromedp.ID("password")),
			)
			if err != nil {
				t.Fatalf("portal login: %v", err)
			}
			loginURL, _ := chromedp.Run(ctx, chromedp.Location())
			err = chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.ID("number"), testNumber),
				chromedp.SendKeys(chromedp.ID("password"), testPassword),
				chromedp.Submit(chromedp.ID("password")),
				chromedp.WaitVisible(chromedp.ID("unmet-need")),
			)
			if err != nil {
				t.Fatalf("portal login: %v", err)
			}
			unmetURL, _ := chromedp.Run(ctx, chromedp.Location())
			// Signed in now (level 1): the citizen's own pages.
			pages = append(pages, crawl(t, false, e.URL+"/account")...)
			pages = append(pages, loginURL, unmetURL, e.URL+"/login/"+strings.Repeat("x", 32))
			for _, width := range []int64{1280, 390} {
				for _, p := range pages {
					check(t, lang, width, visit{url: p})
				}
			}
			if !slices.ContainsFunc(pages, func(p string) bool { return strings.HasSuffix(p, "/account/security") }) ||
				!slices.ContainsFunc(pages, func(p string) bool { return strings.Contains(p, "/register") }) {
				t.Errorf("the crawl missed the security or registration page: %v", pages)
			}
			t.Logf("%s: %d pages checked at 1280 and 390 px", lang, len(pages))

			// The console, as an owner (password and app code), in a
			// browser without the citizen's session.
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
			_, err = chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "citizenid_lang", Value: lang, Domain: base.Hostname(), Path: "/"})
			if err != nil {
				t.Fatal(err)
			}
			err = chromedp.Do(ctx,
				chromedp.Navigate(e.URL+"/admin"),
				chromedp.WaitVisible(chromedp.ID("password")),
				chromedp.SetValue(chromedp.ID("number"), owner.number),
				chromedp.SendKeys(chromedp.ID("password"), testPassword),
				chromedp.Submit(chromedp.ID("password")),
				chromedp.WaitVisible(chromedp.ID("code")),
				chromedp.SendKeys(chromedp.ID("code"), ae.code(owner.secret)),
				chromedp.Submit(chromedp.ID("code")),
				chromedp.WaitVisible(chromedp.ID("admin-who")),
			)
			if err != nil {
				t.Fatalf("console login: %v", err)
			}
			console := crawl(t, true, e.URL+"/admin")
			for _, width := range []int64{1280, 390} {
				for _, p := range console {
					check(t, lang, width, visit{url: p})
				}
			}
			if len(console) < 8 {
				t.Errorf("the console crawl found %d pages: %v", len(console), console)
			}
			t.Logf("%s: %d console pages checked at 1280 and 390 px", lang, len(console))
		})
	}
}
