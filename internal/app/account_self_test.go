package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var sidRE = regexp.MustCompile(`<li class="session( current)?">(?s:.*?)name="sid" value="([^"]+)"`)

// sessionsOn lists the sids on /account/sessions, the current one first.
func sessionsOn(t *testing.T, p page) (current string, others []string) {
	t.Helper()
	for _, m := range sidRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] != "" {
			current = m[2]
		} else {
			others = append(others, m[2])
		}
	}
	return current, others
}

// loginTo opens path, logs in when asked and returns the page it lands on.
func loginTo(t *testing.T, e *env, b *browser, path, number, pw string) page {
	t.Helper()
	p := b.get(e.URL + path)
	if isLoginForm(p) {
		p = b.login(e.URL, p, number, pw)
	}
	return p
}

func TestAccountOverviewSessionsAndPassword(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		a, b := newBrowser(t), newBrowser(t)
		p := loginTo(t, e, a, "/account", testNumber, testPassword)
		if p.status != http.StatusOK || !strings.Contains(p.body, "0792******23") || strings.Contains(p.body, testNumber) {
			t.Fatalf("overview: got %d %.400s, want the masked number only", p.status, p.body)
		}
		for _, link := range []string{"/account/security", "/account/contacts", "/account/sessions", "/account/portals", "/account/activity", "/account/export"} {
			if !strings.Contains(p.body, `href="`+link+`"`) {
				t.Errorf("overview: no link to %s", link)
			}
		}
		loginTo(t, e, b, "/account", testNumber, testPassword)

		// No dead ends: the home page and the logged-out page lead to a login.
		if p := newBrowser(t).get(e.URL + "/"); !strings.Contains(p.body, `href="/account"`) || !strings.Contains(p.body, `href="/recover"`) {
			t.Errorf("home page: no way to log in or recover: %.300s", p.body)
		}
		if p := newBrowser(t).get(e.URL + "/logged-out"); !strings.Contains(p.body, `id="login-again"`) {
			t.Errorf("logged-out page: no way to log in again")
		}

		p = a.get(e.URL + "/account/sessions")
		cur, others := sessionsOn(t, p)
		if cur == "" || len(others) != 1 {
			t.Fatalf("sessions: got current %q and %d others, want one of each: %.600s", cur, len(others), p.body)
		}
		// Ending another session logs that browser out, and only it.
		p = a.post(e.URL+"/account/sessions/end", url.Values{"sid": {others[0]}})
		if !strings.Contains(p.url.String(), "/account/sessions?done=ended") {
			t.Fatalf("end session: landed on %s", p.url)
		}
		if p := b.get(e.URL + "/account"); !isLoginForm(p) {
			t.Errorf("ended session: got %d, want the login form", p.status)
		}
		if _, others := sessionsOn(t, a.get(e.URL+"/account/sessions")); len(others) != 0 {
			t.Errorf("after ending: %d other sessions listed, want 0", len(others))
		}
		// Someone else's sid ends nothing.
		loginTo(t, e, b, "/account", testNumber, testPassword)
		c := newBrowser(t)
		e.addCitizen(t, "001090000777", testPassword)
		loginTo(t, e, c, "/account", "001090000777", testPassword)
		cCur, _ := sessionsOn(t, c.get(e.URL+"/account/sessions"))
		a.post(e.URL+"/account/sessions/end", url.Values{"sid": {cCur}})
		if p := c.get(e.URL + "/account"); isLoginForm(p) {
			t.Errorf("another citizen's session was ended")
		}

		// Changing the password: the current one is checked, the new one
		// works, the old one no longer does, and the other session ends.
		const next = "một câu mật khẩu mới rất dài 2026"
		if p := a.get(e.URL + "/account/security/password"); !strings.Contains(p.body, `autocomplete="new-password"`) {
			t.Fatalf("password form: got %d %.300s", p.status, p.body)
		}
		p = a.post(e.URL+"/account/security/password", url.Values{"current": {"wrong password 123"}, "password": {next}, "password2": {next}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="current-error"`) ||
			!strings.Contains(p.body, `aria-describedby="current-error"`) || !strings.Contains(p.body, `href="#current"`) {
			t.Fatalf("wrong current password: got %d %.600s", p.status, p.body)
		}
		p = a.post(e.URL+"/account/security/password", url.Values{"current": {testPassword}, "password": {next}, "password2": {next + "x"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="password2-error"`) {
			t.Fatalf("mismatch: got %d %.600s", p.status, p.body)
		}
		p = a.post(e.URL+"/account/security/password", url.Values{"current": {testPassword}, "password": {next}, "password2": {next}})
		if !strings.Contains(p.url.String(), "/account/security?done=password") {
			t.Fatalf("change: landed on %s (%d) %.300s", p.url, p.status, p.body)
		}
		if p := b.get(e.URL + "/account"); !isLoginForm(p) {
			t.Errorf("other session after a password change: got %d, want the login form", p.status)
		}
		if p := loginTo(t, e, newBrowser(t), "/account", testNumber, testPassword); isLoginForm(p) == false {
			t.Errorf("old password still logs in")
		}
		if p := loginTo(t, e, newBrowser(t), "/account", testNumber, next); isLoginForm(p) {
			t.Errorf("new password does not log in: %.300s", p.body)
		}
		if p := a.get(e.URL + "/account"); isLoginForm(p) {
			t.Errorf("the session that changed the password was ended")
		}
	})
}
