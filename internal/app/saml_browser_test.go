package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/citizenid/citizenid/internal/browsertest"
)

// In a real browser, under CitizenID's strict CSP (no inline script), the
// SAML forms submit themselves: the HTTP-POST AuthnRequest of a portal,
// the response CitizenID posts back, and the logout of every portal from
// the account page, which ends on the page saying which confirmed.
func TestBrowserSAMLLoginAndLogout(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng bảo hiểm", func(o *samlsp.Options) {
		o.Binding, o.LogoutBinding = saml.HTTPPostBinding, saml.HTTPPostBinding
	}, nil)
	ctx := browsertest.New(t, 60*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(p.srv.URL+"/hello"),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
		// The portal receives identity_level: the consent page, no script needed.
		chromedp.WaitVisible(chromedp.ID("consent-approve")),
		chromedp.Click(chromedp.ID("consent-approve")),
	)
	if err != nil {
		t.Fatalf("login through the portal: %v", err)
	}
	settle(t, ctx, `document.location.pathname === "/hello" && document.body.innerText.includes("nameid")`)
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, citizensamlPersistent) {
		t.Errorf("portal page: got %.300s, want a persistent NameID", body)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/account/security"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("saml-services")),
	)
	if err != nil {
		t.Fatalf("logout from the account page: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`li[data-sp]`), "data-confirmed"))
	if err != nil {
		t.Fatal(err)
	}
	if result.Value != "true" {
		t.Errorf("result page: the portal's logout confirmed %q, want true", result.Value)
	}
	if !p.loggedOutOf(newBrowser(t)) {
		t.Error("portal: still logged in")
	}
}

// settle waits until the page the auto-submitting forms lead to makes
// predicate true; navigations in between make single evaluations fail.
func settle(t *testing.T, ctx context.Context, predicate string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + " " + document.body.innerText`))
			t.Fatalf("page did not settle (%v): %.300s", err, loc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const citizensamlPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
