package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/clients"
)

var stepRE = regexp.MustCompile(`name="step" value="([a-z]+)"`)

// leaveUnmet checks that pg is the unmet-level page, which explains what
// the portal needs and how to get it, and presses "back to the service".
func leaveUnmet(t *testing.T, b *browser, pg page, level string) page {
	t.Helper()
	named := strings.Contains(pg.body, "(level "+level+")") || strings.Contains(pg.body, "(mức "+level+")")
	if !strings.Contains(pg.body, `id="unmet-need"`) || !strings.Contains(pg.body, `id="unmet-how"`) ||
		!strings.Contains(pg.body, `id="back-to-service"`) || !named {
		t.Fatalf("got %d %s %.400s, want the unmet-level page for level %s", pg.status, pg.url, pg.body, level)
	}
	return back(t, b, pg)
}

// back presses "back to the service" on a login step.
func back(t *testing.T, b *browser, pg page) page {
	t.Helper()
	m := actionRE.FindStringSubmatch(pg.body)
	step := stepRE.FindStringSubmatch(pg.body)
	if m == nil || step == nil || !strings.Contains(pg.body, `name="cancel" value="yes"`) {
		t.Fatalf("no way back on %s: %.400s", pg.url, pg.body)
	}
	return b.post(pg.url.Scheme+"://"+pg.url.Host+m[1], url.Values{"step": {step[1]}, "cancel": {"yes"}})
}

// Every login step says why it is asked, offers the other ways the
// citizen has, and a way back to the service, which the portal hears as
// access_denied (SAML: AuthnFailed); a level the citizen cannot reach is
// explained before the portal hears unmet_authentication_requirements.
func TestLoginStepsSayWhyAndLeadBack(t *testing.T) {
	for _, production := range []bool{false, true} {
		name := map[bool]string{false: "embedded", true: "postgres"}[production]
		t.Run(name, func(t *testing.T) {
			s := newStepUp(t, production)
			loa := func(n string) string { return "urn:citizenid:loa:" + n }
			b := stoppingBrowser(t)
			pg, _ := s.authorize(b, nil)
			b.login(s.e.URL, pg, testNumber, testPassword)
			s.enrol(b)

			// A fresh browser asks level 2: the password page says why.
			b2 := stoppingBrowser(t)
			pg, _ = s.authorize(b2, map[string]string{"acr_values": loa("2")})
			const reason = `<p class="reason" id="step-reason">Portal yêu cầu mức bảo đảm đáng kể (mức 2).</p>`
			if !isLoginForm(pg) || !strings.Contains(pg.body, reason) || !strings.Contains(pg.body, `id="back-to-service"`) {
				t.Fatalf("password page: got %d %.600s, want the reason and a way back", pg.status, pg.body)
			}
			pg = b2.login(s.e.URL, pg, testNumber, testPassword)
			if !isTOTPForm(pg) || !strings.Contains(pg.body, reason) || !strings.Contains(pg.body, `id="use-recovery"`) ||
				strings.Contains(pg.body, `id="use-password"`) {
				t.Fatalf("code page: got %d %.800s, want the reason and the recovery code among other ways", pg.status, pg.body)
			}
			// Another way, and from there a way back to the app.
			m := actionRE.FindStringSubmatch(pg.body)
			pg = b2.post(s.e.URL+m[1], url.Values{"step": {"totp"}, "use": {"recovery"}})
			if !strings.Contains(pg.body, `name="step" value="recovery"`) || !strings.Contains(pg.body, `id="use-totp"`) {
				t.Fatalf("recovery page: got %d %.600s, want the code page offered back", pg.status, pg.body)
			}
			q := portalRedirect(t, back(t, b2, pg))
			if q.Get("error") != "access_denied" || q.Get("state") != "st" {
				t.Fatalf("back to the service: got %v, want access_denied", q)
			}
			wantAudit(t, s.e, "login.cancel")

			// Level 3: nothing of the citizen's reaches it; the page says
			// what it needs, then the portal hears it.
			b3 := stoppingBrowser(t)
			pg, _ = s.authorize(b3, map[string]string{"acr_values": loa("3")})
			pg = b3.login(s.e.URL, pg, testNumber, testPassword)
			if !strings.Contains(pg.body, "passkey") {
				t.Errorf("unmet page for level 3 does not mention passkeys: %.600s", pg.body)
			}
			if q := portalRedirect(t, leaveUnmet(t, b3, pg, "3")); q.Get("error") != "unmet_authentication_requirements" {
				t.Fatalf("unmet level 3: got %v, want unmet_authentication_requirements", q)
			}

			// SAML: the way back is AuthnFailed.
			sp := newSAMLPortal(t, s.e, "Cổng SAML", nil, nil)
			sb := newBrowser(t)
			pg = sb.get(sp.srv.URL + "/hello")
			if !isLoginForm(pg) {
				t.Fatalf("SAML login page: got %d %.300s", pg.status, pg.body)
			}
			if status, _ := samlResponseStatus(t, back(t, sb, pg)); status != "AuthnFailed" {
				t.Errorf("SAML back to the service: got %s, want AuthnFailed", status)
			}
		})
	}
}

// A portal's logo shows on its login steps from the server's own copy:
// the citizen's browser never asks the portal's server, a copy is only
// served to the browser of the login, and only raster images are.
func TestPortalLogoIsServedFromACopy(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	var fetched atomic.Int32
	logos := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		if r.URL.Path == "/page.png" {
			w.Write([]byte("<!doctype html><script>alert(1)</script>"))
			return
		}
		w.Write(png)
	}))
	t.Cleanup(logos.Close)
	e := startWith(t, false, nil, app.BuildOptions{HTTPClient: logos.Client()})
	e.addCitizen(t, testNumber, testPassword)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}, LogoURL: logos.URL + "/logo.png"})
	e.addClient(t, clients.Spec{ID: "other", Name: "Other", RedirectURIs: []string{cbURL}, LogoURL: logos.URL + "/page.png"})

	b := stoppingBrowser(t)
	pg := b.get(authorize(e, nil))
	m := logoRE.FindStringSubmatch(pg.body)
	if m == nil || strings.Contains(pg.body, logos.URL) {
		t.Fatalf("login page: want the logo from /portal-logo/, never the portal's URL: %.600s", pg.body)
	}
	for range 2 {
		got := b.get(e.URL + m[1])
		if got.status != http.StatusOK || got.header.Get("Content-Type") != "image/png" || got.body != string(png) {
			t.Fatalf("logo: got %d %s %q", got.status, got.header.Get("Content-Type"), got.body)
		}
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("the portal's server was asked %d times, want once (the copy is cached)", n)
	}
	if got := newBrowser(t).get(e.URL + m[1]); got.status != http.StatusForbidden && got.status != http.StatusNotFound {
		t.Errorf("logo from another browser: got %d, want 403 or 404", got.status)
	}
	// Not an image: not served.
	pg = b.get(authorize(e, map[string]string{"client_id": "other"}))
	if m = logoRE.FindStringSubmatch(pg.body); m == nil {
		t.Fatalf("login page of the other portal has no logo element: %.300s", pg.body)
	}
	if got := b.get(e.URL + m[1]); got.status != http.StatusNotFound {
		t.Errorf("an HTML page as a logo: got %d, want 404", got.status)
	}
}

var logoRE = regexp.MustCompile(`<img class="portal-logo" src="(/portal-logo/[^"]+)"`)
