package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/clients"
)

// Logout without an id_token_hint of the browser's own session asks the
// citizen first (OpenID Connect RP-Initiated Logout §2), so a cross-site
// link cannot log anyone out.
func TestLogoutAsksWithoutMatchingHint(t *testing.T) {
	e := start(t, false, nil)
	const bye = "http://127.0.0.1:9/bye"
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}, PostLogoutRedirectURIs: []string{bye}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)
	b.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), "http://127.0.0.1:9/") }
	portalRedirect(t, b.login(e.URL, b.get(authorize(e, nil)), testNumber, testPassword))
	loggedIn := func() bool {
		loc := b.get(authorize(e, map[string]string{"prompt": "none"})).header.Get("Location")
		return strings.Contains(loc, "code=")
	}

	q := url.Values{"client_id": {"portal"}, "post_logout_redirect_uri": {bye}, "state": {"s-7"}}
	pg := b.get(e.URL + "/end_session?" + q.Encode())
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="confirm" value="yes"`) {
		t.Fatalf("end_session without hint: got %d %.200s, want the confirmation page", pg.status, pg.body)
	}
	if !loggedIn() {
		t.Fatal("the session ended before the citizen confirmed")
	}

	form := url.Values{"client_id": {"portal"}, "post_logout_redirect_uri": {bye}, "state": {"s-7"}, "confirm": {"yes"}}
	req, _ := http.NewRequest("POST", e.URL+"/end_session", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if pg := b.do(req); !strings.Contains(pg.body, `name="confirm"`) || !loggedIn() {
		t.Fatalf("cross-site confirmation: got %d, want the question again and the session alive", pg.status)
	}

	pg = b.post(e.URL+"/end_session", form)
	if loc := pg.header.Get("Location"); loc != bye+"?state=s-7" {
		t.Fatalf("confirmed logout: got %d location %q, want %s?state=s-7", pg.status, loc, bye)
	}
	if loggedIn() {
		t.Fatal("session still alive after a confirmed logout")
	}
}

// The header names the signed-in citizen with a log-out button; after a
// portal's logout without a post-logout redirect, the logged-out page
// offers logging in again and the way back to that portal.
func TestHeaderAndLoggedOutLeadSomewhere(t *testing.T) {
	e := start(t, false, nil)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Cổng thuế", RedirectURIs: []string{"https://thue.example.vn/cb"}})
	e.addCitizen(t, testNumber, testPassword)
	b := stoppingBrowser(t)
	b.stop = func(u *url.URL) bool { return u.Host == "thue.example.vn" }
	b.login(e.URL, b.get(authorize(e, map[string]string{"redirect_uri": "https://thue.example.vn/cb"})), testNumber, testPassword)
	pg := b.get(e.URL + "/")
	if !strings.Contains(pg.body, `id="header-user">Trần Thị Bình</a>`) || !strings.Contains(pg.body, `id="header-logout"`) {
		t.Fatalf("home page header: want the citizen's name and a log-out button: %.900s", pg.body)
	}
	b.get(e.URL + "/end_session?" + url.Values{"client_id": {"portal"}}.Encode())
	pg = b.post(e.URL+"/end_session", url.Values{"client_id": {"portal"}, "confirm": {"yes"}})
	if !strings.Contains(pg.body, `id="login-again"`) || !strings.Contains(pg.body, `href="https://thue.example.vn/" id="back-to-portal"`) ||
		strings.Contains(pg.body, `id="header-user"`) {
		t.Fatalf("logged-out page: got %d %s %.900s, want log in again and back to the portal, nobody in the header", pg.status, pg.url, pg.body)
	}
}
