package app_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	citizensaml "github.com/citizenid/citizenid/internal/saml"
)

// follow submits the SAML forms of a logout until the browser lands on a
// page that has none.
func (b *browser) follow(pg page) (page, []page) {
	b.t.Helper()
	var trail []page
	for range 12 {
		trail = append(trail, pg)
		if !samlFormRE.MatchString(pg.body) {
			return pg, trail
		}
		pg = b.postSAMLForm(pg)
	}
	b.t.Fatalf("logout did not end after %d forms", len(trail))
	return pg, trail
}

var logoutResultRE = regexp.MustCompile(`<li data-sp="([^"]+)" data-confirmed="(true|false)">`)

// logoutResult is what the result page says of each portal.
func logoutResult(t *testing.T, pg page) map[string]bool {
	t.Helper()
	if !strings.Contains(pg.body, `id="logged-out"`) {
		t.Fatalf("logout result: got %d at %s %.500s, want the result page", pg.status, pg.url, pg.body)
	}
	out := map[string]bool{}
	for _, m := range logoutResultRE.FindAllStringSubmatch(pg.body, -1) {
		out[m[1]] = m[2] == "true"
	}
	return out
}

// loggedOutOf reports whether the portal asks for a new login.
func (p *samlPortal) loggedOutOf(b *browser) bool {
	pg := b.get(p.srv.URL + "/hello")
	return pg.header.Get("Content-Type") != "application/json"
}

// withoutSLO removes the SingleLogoutService endpoints from SP metadata:
// a portal that cannot be logged out.
func withoutSLO(t *testing.T) func(*citizensaml.SPSpec) {
	return func(s *citizensaml.SPSpec) {
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(s.MetadataXML, &ed); err != nil {
			t.Fatal(err)
		}
		for i := range ed.SPSSODescriptors {
			ed.SPSSODescriptors[i].SingleLogoutServices = nil
		}
		b, err := xml.Marshal(ed)
		if err != nil {
			t.Fatal(err)
		}
		s.MetadataXML = b
	}
}

func TestSAMLSingleLogout(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	a := newSAMLPortal(t, e, "Cổng A", nil, nil) // sends its logout messages with HTTP-Redirect
	bp := newSAMLPortal(t, e, "Cổng B", func(o *samlsp.Options) { o.LogoutBinding = saml.HTTPPostBinding }, nil)
	c := newSAMLPortal(t, e, "Cổng C", nil, withoutSLO(t))
	const bye = "http://127.0.0.1:9/bye"
	oidcPortal := newPortal(t, e, "tax-portal", []string{"openid"}, nil)

	loginAll := func(t *testing.T, b *browser, portals ...*samlPortal) {
		t.Helper()
		portals[0].hello(b, e.URL, testNumber, testPassword)
		for _, p := range portals[1:] {
			_, trail := p.hello(b, e.URL, "", "")
			wantNoLoginForm(t, trail)
		}
		if !b.hasSession(e) {
			t.Fatal("no CitizenID session after logging in")
		}
	}
	wantAllOut := func(t *testing.T, b *browser, portals ...*samlPortal) {
		t.Helper()
		if b.hasSession(e) {
			t.Error("the CitizenID session survived the logout")
		}
		for _, p := range portals {
			if !p.loggedOutOf(b) {
				t.Errorf("%s: still logged in after single logout", p.entityID)
			}
		}
	}

	t.Run("SP-initiated with HTTP-Redirect", func(t *testing.T) {
		b := newBrowser(t)
		loginAll(t, b, a, bp)
		end, trail := b.follow(b.get(a.srv.URL + "/logout"))
		if end.url.Host != a.srv.Listener.Addr().String() || end.url.Path != "/" {
			t.Fatalf("logout ended at %s (%d), want the portal's page", end.url, end.status)
		}
		if len(trail) < 2 {
			t.Error("the other portal was not visited")
		}
		wantAllOut(t, b, a, bp)
	})

	t.Run("SP-initiated with HTTP-POST, cross-site", func(t *testing.T) {
		b := newBrowser(t)
		loginAll(t, b, bp, a)
		end, _ := b.follow(b.get(bp.srv.URL + "/logout"))
		if end.url.Host != bp.srv.Listener.Addr().String() || end.url.Path != "/" {
			t.Fatalf("logout ended at %s (%d), want the portal's page", end.url, end.status)
		}
		wantAllOut(t, b, a, bp)
	})

	t.Run("account page: every portal, with a result page", func(t *testing.T) {
		b := newBrowser(t)
		loginAll(t, b, a, bp, c)
		end, _ := b.follow(b.post(e.URL+"/account/logout", nil))
		got := logoutResult(t, end)
		want := map[string]bool{a.entityID: true, bp.entityID: true, c.entityID: false}
		for sp, confirmed := range want {
			if v, ok := got[sp]; !ok || v != confirmed {
				t.Errorf("result page, %s: got confirmed=%v (listed %v), want %v", sp, v, ok, confirmed)
			}
		}
		if !strings.Contains(end.body, "Cổng A") || strings.Contains(end.body, `href="/logged-out"`) {
			t.Errorf("result page: want the portals' names and no link back to itself: %.600s", end.body)
		}
		wantAllOut(t, b, a, bp)
	})

	t.Run("OIDC end_session, then back to the OIDC portal", func(t *testing.T) {
		b := newBrowser(t)
		b.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), bye) }
		tok := oidcPortal.loginThrough(t, b, e, testNumber, testPassword)
		_, trail := a.hello(b, e.URL, "", "")
		wantNoLoginForm(t, trail)
		u, err := rp.EndSession(context.Background(), oidcPortal.party, tok.IDToken, oidcPortal.srv.URL+"/bye", "st-9", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		end, _ := b.follow(b.get(u.String()))
		got := logoutResult(t, end)
		if !got[a.entityID] || len(got) != 1 {
			t.Errorf("result page: got %v, want portal A confirmed", got)
		}
		cont := regexp.MustCompile(`<a href="([^"]+)">`).FindAllStringSubmatch(end.body, -1)
		if len(cont) == 0 || !strings.HasPrefix(strings.ReplaceAll(cont[len(cont)-1][1], "&amp;", "&"), oidcPortal.srv.URL+"/bye?state=st-9") {
			t.Errorf("result page: want a link on to the OIDC portal's post-logout URI, got %v", cont)
		}
		wantAllOut(t, b, a)
	})

	t.Run("a forged LogoutRequest ends nothing", func(t *testing.T) {
		b := newBrowser(t)
		loginAll(t, b, a)
		// Unsigned: the SLO profile requires a signature.
		sp := a.mw.ServiceProvider
		sp.LogoutSignatureMethod, sp.SignatureMethod = "", ""
		nameID := "whoever"
		u, err := sp.MakeRedirectLogoutRequest(nameID, "")
		if err != nil {
			t.Fatal(err)
		}
		pg := b.getEN(u.String())
		if pg.status != http.StatusBadRequest || !b.hasSession(e) {
			t.Errorf("unsigned LogoutRequest: got %d, session alive %v; want 400 and the session alive", pg.status, b.hasSession(e))
		}
	})
}
