package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/browsertest"
	"github.com/citizenid/citizenid/internal/clients"
)

// A citizen in a real browser, with Chromium's virtual authenticators:
// registers a passkey on the account page, logs out and logs in to a portal
// at level 3 with the passkey alone; an authenticator that does not verify
// the citizen cannot reach level 3 (it serves as a second factor after the
// password); a synced passkey reaches level 2 only; a passkey is removed.
func TestBrowserPasskeyLevels(t *testing.T) {
	p := newPasskeys(t, false)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>portal</title><p id="portal">portal</p>`))
	}))
	t.Cleanup(portal.Close)
	secret := p.e.addClient(t, clients.Spec{ID: "tax", Name: "Cổng thuế", RedirectURIs: []string{portal.URL + "/cb"}})
	conf := &oauth2.Config{ClientID: "tax", ClientSecret: secret, RedirectURL: portal.URL + "/cb", Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: p.base + "/authorize", TokenURL: p.base + "/oauth/token"}}
	ctx := browsertest.New(t, 120*time.Second)
	enableVirtualAuthenticators(t, ctx)

	// loginAt starts a login at the portal asking for acr. On the password
	// page the browser offers passkeys in autofill (conditional
	// mediation), which Chromium's virtual authenticator answers at once;
	// when that does not end the attempt, the citizen presses the passkey
	// button. It returns how the attempt ended.
	loginAt := func(t *testing.T, acr string) (string, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		err := chromedp.Do(ctx,
			chromedp.Navigate(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", acr))),
		)
		if err != nil {
			t.Fatalf("open the login page: %v", err)
		}
		if got := outcome(ctx, 5*time.Second); got != "" {
			return "autofill " + got, verifier
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("use-webauthn"))); err != nil {
			t.Fatalf("passkey button: %v", err)
		}
		got := outcome(ctx, 20*time.Second)
		if got == "" {
			t.Fatal("the passkey attempt did not end")
		}
		return "button " + got, verifier
	}
	claims := func(t *testing.T, verifier string) map[string]any {
		t.Helper()
		location, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		back, _ := url.Parse(location)
		tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		return verifyIDToken(t, p.base, p.base+"/keys", tok.Extra("id_token").(string), "tax")
	}
	// enrol registers a passkey on the account page (logged in already).
	enrol := func(t *testing.T, name string) {
		t.Helper()
		enrolPasskey(t, ctx, p.base, name)
	}
	logout := func(t *testing.T) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(p.base+"/account/security"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/account/logout"] button`)),
			chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("logged-out")),
		)
		if err != nil {
			t.Fatalf("log out: %v", err)
		}
	}

	// The phone: a device-bound platform authenticator that verifies the citizen.
	phone := virtualAuthenticator(t, ctx, true, false)
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/account/security"),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), testNumber),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
	)
	if err != nil {
		t.Fatalf("log in to the account page: %v", err)
	}
	enrol(t, "Điện thoại của tôi")
	if list, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passkey-list"))); !strings.Contains(list, "(level 3)") {
		t.Errorf("passkey list: got %q, want it device-bound", list)
	}
	logout(t)

	t.Run("passwordless login at level 3", func(t *testing.T) {
		got, verifier := loginAt(t, "urn:citizenid:loa:3")
		if !strings.HasSuffix(got, " portal") {
			t.Fatalf("got %q, want the portal", got)
		}
		t.Logf("logged in by %s", got) // autofill, where the browser offers it
		wantACR(t, claims(t, verifier), "urn:citizenid:loa:3", "hwk", "user", "mfa")
	})

	// The phone is gone; a security key registered while it verified the
	// citizen (the credential record keeps UV from registration) now does
	// not verify: level 3 is out of reach, whatever that record says.
	removeAuthenticator(t, ctx, phone)
	key := virtualAuthenticator(t, ctx, true, false)
	enrol(t, "Khoá bảo mật")
	logout(t)

	t.Run("an authenticator with isUserVerified=false cannot reach level 3", func(t *testing.T) {
		if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: key, IsUserVerified: false}); err != nil {
			t.Fatal(err)
		}
		// Chromium's authenticator refuses: the page says so, nothing is posted.
		if got, _ := loginAt(t, "urn:citizenid:loa:3"); got != "button page: You cancelled, or the device could not confirm. Please try again." {
			t.Errorf("got %q, want the page's message", got)
		}
		// Leave the page (its autofill request is pending again) before
		// the authenticator verifies again.
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: key, IsUserVerified: true}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an assertion without user verification cannot reach level 3", func(t *testing.T) {
		// The authenticator answers, but with the UV flag off: the server
		// reads this assertion's flags and refuses.
		if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: key, IsBadUV: new(true)}); err != nil {
			t.Fatal(err)
		}
		got, _ := loginAt(t, "urn:citizenid:loa:3")
		if !strings.Contains(got, "server: The device did not verify you") {
			t.Errorf("got %q, want the server's refusal", got)
		}
	})

	t.Run("after the password it is a second factor: level 2", func(t *testing.T) {
		// Still with UV=0 answers. A fresh password login asks for the
		// passkey (the citizen has a second factor); the passkey page's
		// button. While the citizen types the password, the key is not
		// touched, so autofill does not answer.
		presence := func(on bool) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
					webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: key, Enabled: on})
				return err
			})
		}
		verifier := oauth2.GenerateVerifier()
		err := chromedp.Do(ctx,
			presence(false),
			chromedp.Navigate(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:2"))),
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("number"), testNumber),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.ID("webauthn-start")),
			presence(true),
			chromedp.Click(chromedp.ID("webauthn-start")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcome(ctx, 20*time.Second); got != "portal" {
			t.Fatalf("got %q, want the portal", got)
		}
		wantACR(t, claims(t, verifier), "urn:citizenid:loa:2", "pwd", "hwk", "mfa")
		chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: key, IsBadUV: new(false)})
	})

	// A synced passkey (backup eligible), registered in the level-2
	// session just made.
	removeAuthenticator(t, ctx, key)
	virtualAuthenticator(t, ctx, true, true)
	enrol(t, "Passkey đồng bộ")
	if list, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passkey-list"))); !strings.Contains(list, "Synced across devices (level 2)") {
		t.Errorf("passkey list: got %q, want the synced passkey at level 2", list)
	}
	logout(t)

	t.Run("a synced passkey reaches level 2 only", func(t *testing.T) {
		got, verifier := loginAt(t, "urn:citizenid:loa:2")
		if !strings.HasSuffix(got, " portal") {
			t.Fatalf("got %q, want the portal", got)
		}
		wantACR(t, claims(t, verifier), "urn:citizenid:loa:2", "swk", "user")
		// Step-up to level 3 in the same session: the passkey page.
		verifier = oauth2.GenerateVerifier()
		err := chromedp.Do(ctx,
			chromedp.Navigate(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", "urn:citizenid:loa:3"))),
			chromedp.WaitVisible(chromedp.ID("webauthn-start")),
			chromedp.Click(chromedp.ID("webauthn-start")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcome(ctx, 20*time.Second); !strings.Contains(got, "server: A passkey synced across devices reaches assurance level 2 only") {
			t.Errorf("got %q, want the server's refusal", got)
		}
	})

	t.Run("removing a passkey", func(t *testing.T) {
		// The level-2 session is fresh enough to remove one.
		err := chromedp.Do(ctx,
			chromedp.Navigate(p.base+"/account/security"),
			chromedp.WaitVisible(chromedp.ID("passkey-list")),
			chromedp.Click(chromedp.CSS(`button[aria-label="Remove: Khoá bảo mật"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		notice, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.notice`)))
		list, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passkey-list")))
		if notice != "The passkey was removed." || strings.Contains(list, "Khoá bảo mật") || !strings.Contains(list, "Passkey đồng bộ") {
			t.Errorf("after removal: notice %q, list %q", notice, list)
		}
		creds, err := p.e.WebAuthn.Credentials(context.Background(), p.citizen().ID)
		if err != nil || len(creds) != 2 {
			t.Errorf("stored passkeys: got %d (%v), want 2", len(creds), err)
		}
	})
}
