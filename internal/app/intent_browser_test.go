package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/browsertest"
	"github.com/citizenid/citizenid/internal/clients"
)

// A citizen sets up the app (key in groups, recovery codes to download,
// then "I have saved them"), and twenty minutes later adds a passkey: the
// login asked first says why, and afterwards the citizen lands on "create
// passkey" with the name they typed.
func TestBrowserStepUpKeepsIntent(t *testing.T) {
	p := newPasskeys(t, false)
	ctx := browsertest.New(t, 120*time.Second)
	enableVirtualAuthenticators(t, ctx)
	virtualSecurityKey(t, ctx)
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/account/security"),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/security/totp"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")),
	)
	if err != nil {
		t.Fatalf("enrolment page: %v", err)
	}
	key, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("totp-copy"), "data-copy"))
	if err != nil || !key.Exists {
		t.Fatalf("key: %v", err)
	}
	groups := strings.Fields(text("#totp-secret"))
	if strings.Join(groups, "") != key.Value || len(groups[0]) != 4 {
		t.Fatalf("key shown as %q, want %q in groups of four", groups, key.Value)
	}
	code := func() string {
		c, err := totp.Code(key.Value, p.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), code()),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
	)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	codes := strings.Fields(text("#recovery-codes"))
	file, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById("codes-download").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || len(codes) != 10 || !strings.Contains(file, codes[0]) || !strings.Contains(file, codes[9]) {
		t.Fatalf("download: got %q (%v), want the 10 codes %v", file, err, codes)
	}
	// Reloading shows them again until the citizen says they saved them.
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
		chromedp.Click(chromedp.ID("saved")),
		chromedp.Click(chromedp.ID("codes-saved")),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
	)
	if err != nil {
		t.Fatalf("saved: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/account/security?done=codes_saved") {
		t.Errorf("after saving: at %s", loc)
	}

	// The citizen types a passkey's name and is called away; twenty
	// minutes on, adding it needs a fresh login at level 2.
	const name = "Khoá USB của Hoa"
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), name),
	)
	if err != nil {
		t.Fatalf("security page: %v", err)
	}
	p.clk.Advance(20 * time.Minute)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("passkey-add")),
		chromedp.WaitVisible(chromedp.ID("password")),
	)
	if err != nil {
		t.Fatalf("fresh login: %v", err)
	}
	const why = "To add a passkey, confirm with your second factor." // Chromium asks for English
	if got := text("#step-reason"); got != why {
		t.Errorf("password step says %q, want %q", got, why)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	if err != nil {
		t.Fatalf("password step: %v", err)
	}
	if got := text("#step-reason"); got != why {
		t.Errorf("code step says %q, want %q", got, why)
	}
	if ways := text("#other-ways"); !strings.Contains(ways, "Recovery code") {
		t.Errorf("other ways on the code step: %q, want the recovery code", ways)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), code()),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("webauthn-start")),
	)
	if err != nil {
		t.Fatalf("code step: %v", err)
	}
	if got := text("#passkey-pending-name"); got != name {
		t.Fatalf("after the login: registering %q, want %q", got, name)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("webauthn-start")),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if err != nil {
		t.Fatalf("create passkey: %v", err)
	}
	if list := text("#passkey-list"); !strings.Contains(list, name) {
		t.Errorf("passkey list %q, want %q in it", list, name)
	}
}

// In a real browser: "use another way" leads from the app's code to a
// recovery code, "back to the service" from there brings the portal
// access_denied, and a level nothing reaches is explained before the
// portal hears unmet_authentication_requirements.
func TestBrowserOtherWaysAndBackToService(t *testing.T) {
	clk := newClock()
	e := startWith(t, false, nil, app.BuildOptions{Now: clk.Now})
	e.addCitizen(t, testNumber, testPassword)
	c, err := e.Store.CitizenByNumber(context.Background(), testNumber)
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.TOTP.BeginEnrolment(context.Background(), c.ID, testNumber)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.Code(en.Secret, clk.Now())
	if _, err := e.TOTP.ConfirmEnrolment(context.Background(), c.ID, code); err != nil {
		t.Fatal(err)
	}
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>portal</title><p id="portal">portal</p>`))
	}))
	t.Cleanup(portal.Close)
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Cổng thuế", RedirectURIs: []string{portal.URL + "/cb"}})
	conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: portal.URL + "/cb", Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"}}
	ctx := browsertest.New(t, 60*time.Second)
	answer := func() url.Values {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(loc)
		return u.Query()
	}
	acr := func(n string) string {
		return conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:"+n))
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(acr("2")),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("use-recovery")),
		chromedp.Click(chromedp.ID("use-recovery")),
		chromedp.WaitVisible(chromedp.ID("use-totp")), // the way back to the app
		chromedp.Click(chromedp.ID("back-to-service")),
		chromedp.WaitVisible(chromedp.ID("portal")),
	)
	if err != nil {
		t.Fatalf("other way, then back: %v", err)
	}
	if q := answer(); q.Get("error") != "access_denied" || q.Get("state") != "st" {
		t.Errorf("back to the service: portal got %v, want access_denied", q)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(acr("3")),
		chromedp.WaitVisible(chromedp.ID("unmet-need")),
		chromedp.Click(chromedp.ID("back-to-service")),
		chromedp.WaitVisible(chromedp.ID("portal")),
	)
	if err != nil {
		t.Fatalf("unmet level: %v", err)
	}
	if q := answer(); q.Get("error") != "unmet_authentication_requirements" {
		t.Errorf("unmet level: portal got %v, want unmet_authentication_requirements", q)
	}
}
