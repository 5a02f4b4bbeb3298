package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Chromium's virtual WebAuthn authenticators, shared by the browser tests
// that log in with passkeys (webauthn_browser_test.go,
// admin_browser_test.go).

// enableVirtualAuthenticators turns on the WebAuthn domain of the tab,
// without the browser's own passkey dialogs.
func enableVirtualAuthenticators(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
}

// virtualAuthenticator adds one of Chromium's virtual WebAuthn
// authenticators to the tab: CTAP2 over the internal transport (a phone's
// or laptop's platform authenticator) with resident keys and user
// verification. A tab has one at most.
func virtualAuthenticator(t *testing.T, ctx context.Context, userVerified, backupEligible bool) webauthn.AuthenticatorID {
	t.Helper()
	return addVirtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportInternal, userVerified, backupEligible)
}

// virtualSecurityKey adds a USB security key with resident keys that
// verifies its user (a PIN), device-bound; a tab may have several.
func virtualSecurityKey(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	return addVirtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportUsb, true, false)
}

func addVirtualAuthenticator(t *testing.T, ctx context.Context, transport webauthn.AuthenticatorTransport, userVerified, backupEligible bool) webauthn.AuthenticatorID {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   transport,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              userVerified,
			AutomaticPresenceSimulation: true,
			DefaultBackupEligibility:    backupEligible,
			DefaultBackupState:          backupEligible,
		},
	})
	if err != nil {
		t.Fatalf("add virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

func removeAuthenticator(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id}); err != nil {
		t.Fatalf("remove virtual authenticator: %v", err)
	}
}

// setPresence turns the automatic simulation of the user's touch of the
// authenticator on or off: off, it answers no request (the citizen does
// not touch it), and another authenticator of the tab may.
func setPresence(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID, on bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on}); err != nil {
		t.Fatalf("presence simulation: %v", err)
	}
}

// outcomeJS says how a passkey attempt ended: at the portal, with the
// server's error, with the page's own message, or not yet (null).
const outcomeJS = `(() => {
  if (document.getElementById('portal')) return 'portal';
  const e = document.getElementById('login-error');
  if (e) return 'server: ' + e.textContent;
  const s = document.getElementById('webauthn-status');
  if (s && !s.hidden && s.textContent) return 'page: ' + s.textContent;
  return null;
})()`

// outcome waits up to wait for the attempt to end; "" when it did not. It
// asks again and again, since the page navigates meanwhile.
func outcome(ctx context.Context, wait time.Duration) string {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[*string](outcomeJS)); err == nil && got != nil {
			return *got
		}
	}
	return ""
}

// enrolPasskey registers a passkey named name on the account page of base,
// where the tab is logged in already, and checks that the list shows it.
func enrolPasskey(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/account/security"),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
		chromedp.SetValue(chromedp.ID("passkey-name"), name),
		chromedp.Click(chromedp.ID("passkey-add")),
		chromedp.WaitVisible(chromedp.ID("webauthn-start")),
		chromedp.Click(chromedp.ID("webauthn-start")),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if err != nil {
		t.Fatalf("register %q: %v", name, err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passkey-list")))
	if err != nil || !strings.Contains(list, name) {
		t.Fatalf("passkey list: got %q (%v), want %q in it", list, err, name)
	}
}
