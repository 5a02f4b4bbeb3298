package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/browsertest"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
)

// A citizen in a real browser sets up the authenticator app on the account
// page (reading the key from the otpauth:// link), logs out, and logs in to
// a portal that asks for level 2.
func TestBrowserTOTPEnrolmentAndLevel2Login(t *testing.T) {
	clk := newClock()
	e := startWith(t, false, func(c *config.Config) {}, app.BuildOptions{Now: clk.Now})
	e.addCitizen(t, testNumber, testPassword)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>portal</title><p id="portal">portal</p>`))
	}))
	t.Cleanup(portal.Close)
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Cổng thuế", RedirectURIs: []string{portal.URL + "/cb"}})
	ctx := browsertest.New(t, 60*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/account/security"),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/security/totp"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.ID("otpauth-link")),
	)
	if err != nil {
		t.Fatalf("enrolment page: %v", err)
	}
	otpauth, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("otpauth-link"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(otpauth.Value)
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") == "" {
		t.Fatalf("otpauth link %q", otpauth.Value)
	}
	key := u.Query().Get("secret")
	code := func() string {
		c, err := totp.Code(key, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), code()),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.CSS(`ol.codes`)),
	)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.codes code")].map(c => c.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("saved")),
		chromedp.Click(chromedp.ID("codes-saved")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/security/totp/remove"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("logged-out")),
	)
	if err != nil {
		t.Fatalf("log out: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || !strings.HasSuffix(location, "/logged-out") {
		t.Fatalf("got %d recovery codes and location %q, want 10 and the logged-out page", len(codes), location)
	}

	// Log in to a portal asking for level 2: password, then the code.
	clk.Advance(30 * time.Second)
	conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: portal.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"}, Scopes: []string{"openid"}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:2"))
	// In Vietnamese, the first language.
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "citizenid_lang", Value: "vi", Domain: "127.0.0.1", Path: "/"}); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`input[autocomplete="one-time-code"]`)),
	)
	if err != nil {
		t.Fatalf("level-2 login: %v", err)
	}
	// The code step says why it is asked and offers the other ways and
	// the way back (the README shows it).
	reason, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("step-reason")))
	if err != nil || reason != "Cổng thuế yêu cầu mức bảo đảm đáng kể (mức 2)." {
		t.Errorf("code step reason: got %q (%v)", reason, err)
	}
	saveScreenshot(t, ctx, "login-step.png")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), code()),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("portal")),
	)
	if err != nil {
		t.Fatalf("level-2 login: %v", err)
	}
	location, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	back, _ := url.Parse(location)
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	claims := verifyIDToken(t, e.URL, e.URL+"/keys", tok.Extra("id_token").(string), "portal")
	wantACR(t, claims, "urn:citizenid:loa:2", "pwd", "otp", "mfa")
}
