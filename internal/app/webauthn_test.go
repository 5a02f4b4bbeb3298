package app_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/authn/webauthn/webauthntest"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

// passkeys is CitizenID on a localhost issuer (browsers, and go-webauthn,
// refuse an IP address as the RP ID) with a portal, for passkey tests over
// HTTP with a software authenticator.
type passkeys struct {
	t    *testing.T
	e    *env
	base string // http://localhost:PORT, the issuer
	clk  *clock
	conf *oauth2.Config
}

func newPasskeys(t *testing.T, production bool) *passkeys {
	clk := newClock()
	e := startWith(t, production, func(c *config.Config) {
		c.Server.Issuer = strings.Replace(c.Server.Issuer, "127.0.0.1", "localhost", 1)
	}, app.BuildOptions{Now: clk.Now})
	if e.WebAuthn == nil {
		t.Fatal("passkeys are off on a localhost issuer")
	}
	base := strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	e.addCitizen(t, testNumber, testPassword)
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	return &passkeys{t: t, e: e, base: base, clk: clk, conf: &oauth2.Config{
		ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/oauth/token"},
	}}
}

// device is a software passkey bound to one device, verifying the citizen.
func (p *passkeys) device() *webauthntest.Authenticator {
	return &webauthntest.Authenticator{Origin: p.base, UserVerified: true}
}

var (
	webauthnOptionsRE = regexp.MustCompile(`<script type="application/json" id="webauthn-options">(.*?)</script>`)
	passkeyCeremonyRE = regexp.MustCompile(`name="ceremony" value="([^"]+)"`)
	passkeyActionRE   = regexp.MustCompile(`action="(/login/[^"]+)"`)
	passkeyIDRE       = regexp.MustCompile(`action="/account/security/webauthn/remove">\s*<input type="hidden" name="id" value="([^"]+)"`)
)

func (p *passkeys) options(pg page) []byte {
	p.t.Helper()
	m := webauthnOptionsRE.FindStringSubmatch(pg.body)
	if m == nil {
		p.t.Fatalf("no passkey options on the page (%d %s): %.600s", pg.status, pg.url, pg.body)
	}
	return []byte(m[1])
}

// answer answers the passkey challenge of a login page (the password page
// or the passkey page) with cred, posting it as the passkey step.
func (p *passkeys) answer(b *browser, pg page, dev *webauthntest.Authenticator, cred *webauthntest.Credential) page {
	p.t.Helper()
	resp, err := dev.Get(p.options(pg), cred)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.post(b, pg, url.Values{"step": {"webauthn"}, "credential": {string(resp)}})
}

// post posts form to the login page's action.
func (p *passkeys) post(b *browser, pg page, form url.Values) page {
	p.t.Helper()
	m := passkeyActionRE.FindStringSubmatch(pg.body)
	if m == nil {
		p.t.Fatalf("no login form on the page (%d): %.300s", pg.status, pg.body)
	}
	return b.post(p.base+m[1], form)
}

// account opens the account page, logging in with the password if asked.
func (p *passkeys) account(b *browser) page {
	p.t.Helper()
	pg := b.get(p.base + "/account/security")
	if strings.Contains(pg.body, `autocomplete="current-password"`) {
		pg = b.login(p.base, pg, testNumber, testPassword)
	}
	if !strings.Contains(pg.body, `id="passkeys"`) {
		p.t.Fatalf("account page without the passkey section (%d): %.500s", pg.status, pg.body)
	}
	return pg
}

// enrol registers a passkey of dev named name from the account page.
func (p *passkeys) enrol(b *browser, dev *webauthntest.Authenticator, name string) (*webauthntest.Credential, page) {
	p.t.Helper()
	p.account(b)
	pg := b.post(p.base+"/account/security/webauthn", url.Values{"name": {name}})
	m := passkeyCeremonyRE.FindStringSubmatch(pg.body)
	if m == nil {
		p.t.Fatalf("registration page without a ceremony (%d): %.500s", pg.status, pg.body)
	}
	cred, resp, err := dev.Create(p.options(pg))
	if err != nil {
		p.t.Fatal(err)
	}
	pg = b.post(p.base+"/account/security/webauthn/confirm", url.Values{"ceremony": {m[1]}, "credential": {string(resp)}})
	if !strings.Contains(pg.body, "Đã thêm passkey.") || !strings.Contains(pg.body, name) {
		p.t.Fatalf("after registration: got %d %.800s, want the passkey listed", pg.status, pg.body)
	}
	return cred, pg
}

func (p *passkeys) authorize(b *browser, acr string) (page, string) {
	v := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}
	if acr != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", acr))
	}
	return b.get(p.conf.AuthCodeURL("st", opts...)), v
}

func (p *passkeys) claims(pg page, verifier string) map[string]any {
	p.t.Helper()
	q := portalRedirect(p.t, pg)
	tok, err := p.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		p.t.Fatal(err)
	}
	return verifyIDToken(p.t, p.base, p.base+"/keys", tok.Extra("id_token").(string), "portal")
}

func (p *passkeys) logout(b *browser) {
	p.t.Helper()
	b.post(p.base+"/account/logout", nil)
}

func (p *passkeys) audit(action, outcome string) []store.AuditEvent {
	p.t.Helper()
	evs, err := p.e.Store.ListAudit(context.Background(), store.AuditFilter{Action: action, Outcome: outcome, Limit: 1000})
	if err != nil {
		p.t.Fatal(err)
	}
	return evs
}

func wantPasskeyError(t *testing.T, pg page, status int, text string) {
	t.Helper()
	if pg.status != status || !strings.Contains(pg.body, text) {
		t.Errorf("got %d %.600s, want %d with %q", pg.status, pg.body, status, text)
	}
}

// A citizen registers a passkey on the account page, logs out, and logs in
// to a portal at level 3 with the passkey alone.
func TestPasskeyEnrolmentAndPasswordlessLogin(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres"}[production], func(t *testing.T) {
			p := newPasskeys(t, production)
			b := stoppingBrowser(t)
			pg := p.account(b)
			if !strings.Contains(pg.body, `id="passkey-none"`) || !strings.Contains(pg.body, `id="passkey-add"`) {
				t.Fatalf("account page: want no passkey yet and the add form: %.800s", pg.body)
			}
			dev := p.device()
			cred, pg := p.enrol(b, dev, "Điện thoại của tôi")
			if !strings.Contains(pg.body, "Gắn với thiết bị (mức 3)") || !strings.Contains(pg.body, "Chưa dùng") {
				t.Errorf("listed passkey: want device-bound, never used: %.1500s", pg.body)
			}
			if evs := p.audit("webauthn.enrol", "success"); len(evs) != 1 || evs[0].Details["credential"] != webauthn.Fingerprint(cred.ID) {
				t.Errorf("enrolment audit: got %+v", evs)
			}
			p.logout(b)

			pg, verifier := p.authorize(b, "urn:citizenid:loa:3")
			if !strings.Contains(pg.body, `autocomplete="username webauthn"`) || !strings.Contains(pg.body, `id="use-webauthn"`) {
				t.Fatalf("password page: want passkey autofill and the passkey button: %.1500s", pg.body)
			}
			if strings.Contains(string(p.options(pg)), "allowCredentials") {
				t.Errorf("password page options: got %s, want a discoverable request", p.options(pg))
			}
			pg = p.answer(b, pg, dev, cred)
			wantACR(t, p.claims(pg, verifier), "urn:citizenid:loa:3", "hwk", "user", "mfa")
			if evs := p.audit("login.webauthn", "success"); len(evs) != 1 || evs[0].Target != evs[0].Actor {
				t.Errorf("login audit: got %+v", evs)
			}
			pg = p.account(b)
			if strings.Contains(pg.body, "Chưa dùng") {
				t.Errorf("after a login the passkey shows as never used: %.1500s", pg.body)
			}
		})
	}
}

func TestPasskeyLevels(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	dev := p.device()
	cred, _ := p.enrol(b, dev, "Điện thoại của tôi")
	p.logout(b)

	t.Run("passkey button, then the passkey page", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, verifier := p.authorize(b, "urn:citizenid:loa:2")
		pg = p.post(b, pg, url.Values{"step": {"password"}, "use": {"webauthn"}})
		if !strings.Contains(pg.body, `id="webauthn-start"`) || !strings.Contains(pg.body, `id="use-password"`) {
			t.Fatalf("passkey page: %.1000s", pg.body)
		}
		pg = p.answer(b, pg, dev, cred)
		wantACR(t, p.claims(pg, verifier), "urn:citizenid:loa:3", "hwk", "user", "mfa")
	})

	t.Run("back to the password", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, _ := p.authorize(b, "")
		pg = p.post(b, pg, url.Values{"step": {"password"}, "use": {"webauthn"}})
		pg = p.post(b, pg, url.Values{"step": {"webauthn"}, "use": {"password"}})
		if !strings.Contains(pg.body, `autocomplete="current-password"`) {
			t.Errorf("got %.500s, want the password page", pg.body)
		}
	})

	t.Run("passwordless without user verification", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, _ := p.authorize(b, "")
		dev.UserVerified = false
		pg = p.answer(b, pg, dev, cred)
		dev.UserVerified = true
		wantPasskeyError(t, pg, http.StatusUnauthorized, "Thiết bị chưa xác minh bạn")
	})

	t.Run("a fresh password login asks for the passkey; without verification it is a second factor", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, verifier := p.authorize(b, "")
		pg = b.login(p.base, pg, testNumber, testPassword)
		if !strings.Contains(pg.body, `name="step" value="webauthn"`) || !strings.Contains(string(p.options(pg)), "allowCredentials") {
			t.Fatalf("after the password: got %.800s, want the passkey step with the citizen's credentials", pg.body)
		}
		dev.UserVerified = false
		pg = p.answer(b, pg, dev, cred)
		dev.UserVerified = true
		wantACR(t, p.claims(pg, verifier), "urn:citizenid:loa:2", "pwd", "hwk", "mfa")
	})

	t.Run("a recorded assertion does not work in another login", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, _ := p.authorize(b, "")
		resp, err := dev.Get(p.options(pg), cred)
		if err != nil {
			t.Fatal(err)
		}
		// Another login in the same browser (in another browser, its
		// page is refused outright: it is bound to the browser).
		pg2, _ := p.authorize(b, "")
		pg2 = p.post(b, pg2, url.Values{"step": {"webauthn"}, "credential": {string(resp)}})
		wantPasskeyError(t, pg2, http.StatusUnauthorized, "Không xác minh được passkey")
	})

	// A synced passkey (second registration: the fresh level-3 session
	// of the citizen allows it) reaches level 2 only.
	synced := &webauthntest.Authenticator{Origin: p.base, UserVerified: true, BackupEligible: true, BackupState: true}
	b = stoppingBrowser(t)
	pg, _ := p.authorize(b, "")
	p.answer(b, pg, dev, cred)
	syncedCred, pg := p.enrol(b, synced, "Passkey đồng bộ")
	if !strings.Contains(pg.body, "Đồng bộ giữa các thiết bị (mức 2)") {
		t.Errorf("synced passkey listed as: %.2000s", pg.body)
	}
	p.logout(b)

	t.Run("synced passkey: level 2, and refused for level 3", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, verifier := p.authorize(b, "urn:citizenid:loa:2")
		pg = p.answer(b, pg, synced, syncedCred)
		first := p.claims(pg, verifier)
		wantACR(t, first, "urn:citizenid:loa:2", "swk", "user")

		// Step-up in the same session: the passkey page lists the
		// citizen's credentials; the synced one is refused, the device-bound one works.
		pg, verifier = p.authorize(b, "urn:citizenid:loa:3")
		if !strings.Contains(pg.body, `name="step" value="webauthn"`) {
			t.Fatalf("step-up: got %.600s, want the passkey step", pg.body)
		}
		pg = p.answer(b, pg, synced, syncedCred)
		wantPasskeyError(t, pg, http.StatusUnauthorized, "chỉ đạt mức bảo đảm 2")
		pg = p.answer(b, pg, dev, cred)
		second := p.claims(pg, verifier)
		wantACR(t, second, "urn:citizenid:loa:3", "hwk", "user", "mfa")
		if first["sid"] != second["sid"] {
			t.Errorf("sid: got %v then %v, want the session kept through step-up", first["sid"], second["sid"])
		}
	})

	t.Run("a counter that goes backwards fails, flags and is audited", func(t *testing.T) {
		b := stoppingBrowser(t)
		pg, _ := p.authorize(b, "")
		saved := cred.SignCount
		cred.SignCount = 0
		pg = p.answer(b, pg, dev, cred)
		cred.SignCount = saved
		wantPasskeyError(t, pg, http.StatusUnauthorized, "có dấu hiệu bị sao chép")
		if evs := p.audit("webauthn.flag", "flagged"); len(evs) != 1 {
			t.Errorf("flag audit: got %+v, want one", evs)
		}
		if evs := p.audit("login.webauthn", "failure"); len(evs) == 0 || !strings.Contains(evs[len(evs)-1].Details["reason"], "cloned") {
			t.Errorf("login audit: got %+v, want the failure with its reason", evs)
		}
		// Flagged for good, and shown so on the account page.
		pg, _ = p.authorize(b, "")
		pg = p.answer(b, pg, dev, cred)
		wantPasskeyError(t, pg, http.StatusUnauthorized, "có dấu hiệu bị sao chép")
		pg, _ = p.authorize(b, "")
		portalRedirect(t, p.answer(b, pg, synced, syncedCred)) // the other passkey still works
		if pg = b.get(p.base + "/account/security"); !strings.Contains(pg.body, "Đã khoá: có dấu hiệu bị sao chép") {
			t.Errorf("account page: want the flagged passkey marked: %.2000s", pg.body)
		}
	})
}

// Removing passkeys: fresh level 2; the last one only after a warning.
func TestPasskeyRemoval(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	dev := p.device()
	cred, _ := p.enrol(b, dev, "Điện thoại của tôi")
	// The second registration needs a fresh level 2: the password session
	// of the first one is not enough any more, the passkey is asked.
	pg := b.post(p.base+"/account/security/webauthn", url.Values{"name": {"Khoá bảo mật"}})
	if !strings.Contains(pg.body, `name="step" value="webauthn"`) || strings.Contains(pg.body, `name="ceremony"`) {
		t.Fatalf("second registration at level 1: got %.800s, want the passkey asked first", pg.body)
	}
	p.answer(b, pg, dev, cred)
	p.enrol(b, p.device(), "Khoá bảo mật")

	pg = p.account(b)
	if ids := passkeyIDRE.FindAllStringSubmatch(pg.body, -1); len(ids) != 2 {
		t.Fatalf("listed passkeys: got %d, want 2", len(ids))
	}
	idOf := map[string]string{}
	creds, err := p.e.WebAuthn.Credentials(context.Background(), p.citizen().ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range creds {
		idOf[c.Name] = base64.RawURLEncoding.EncodeToString(c.ID)
	}
	phone, key := idOf["Điện thoại của tôi"], idOf["Khoá bảo mật"]
	pg = b.post(p.base+"/account/security/webauthn/remove", url.Values{"id": {phone}})
	if !strings.Contains(pg.body, "Đã gỡ passkey.") || strings.Contains(pg.body, `class="passkey-name">Điện thoại của tôi<`) {
		t.Fatalf("after removing one of two: got %.1500s", pg.body)
	}
	pg = b.post(p.base+"/account/security/webauthn/remove", url.Values{"id": {key}})
	if !strings.Contains(pg.body, `id="webauthn-remove-warning"`) || !strings.Contains(pg.body, "passkey cuối cùng") {
		t.Fatalf("removing the last one: got %.1500s, want a warning first", pg.body)
	}
	if got, _ := p.e.WebAuthn.Credentials(context.Background(), p.citizen().ID); len(got) != 1 {
		t.Fatalf("after the warning: got %d passkeys, want 1 kept", len(got))
	}
	pg = b.post(p.base+"/account/security/webauthn/remove", url.Values{"id": {key}, "confirm": {"yes"}})
	if !strings.Contains(pg.body, "Đã gỡ passkey.") || !strings.Contains(pg.body, `id="passkey-none"`) {
		t.Fatalf("after confirming: got %.1500s", pg.body)
	}
	if evs := p.audit("webauthn.remove", "success"); len(evs) != 2 {
		t.Errorf("removal audit: got %d events, want 2", len(evs))
	}
	// Someone else's ID, or garbage, removes nothing.
	if pg = b.post(p.base+"/account/security/webauthn/remove", url.Values{"id": {"!!"}}); pg.status != http.StatusBadRequest {
		t.Errorf("garbage id: got %d, want 400", pg.status)
	}
}

func (p *passkeys) citizen() *store.Citizen {
	p.t.Helper()
	c, err := p.e.Store.CitizenByNumber(context.Background(), testNumber)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// Passkey challenges expire with the clock, whatever Redis still holds.
func TestPasskeyChallengeExpires(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	dev := p.device()
	cred, _ := p.enrol(b, dev, "phone")
	p.logout(b)
	pg, _ := p.authorize(b, "")
	resp, err := dev.Get(p.options(pg), cred)
	if err != nil {
		t.Fatal(err)
	}
	p.clk.Advance(5*time.Minute + time.Second)
	pg = p.post(b, pg, url.Values{"step": {"webauthn"}, "credential": {string(resp)}})
	wantPasskeyError(t, pg, http.StatusUnauthorized, "đã hết hạn")
}

// With a passkey, a password alone cannot add an authenticator app (which
// would give level 2 with the password): the passkey is asked first.
func TestPasskeyGuardsTOTPEnrolment(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	dev := p.device()
	cred, _ := p.enrol(b, dev, "phone")
	// The citizen chose not to be asked for a second factor at every login.
	if err := p.e.Store.UpdateCitizen(context.Background(), p.citizen().ID, func(c *store.Citizen) error {
		c.SkipSecondFactor = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p.logout(b)
	p.account(b) // password only: level 1
	pg := b.post(p.base+"/account/security/totp", nil)
	if strings.Contains(pg.body, `id="totp-secret"`) || !strings.Contains(pg.body, `name="step" value="webauthn"`) {
		t.Fatalf("app set-up after a password alone: got %.800s, want the passkey asked first", pg.body)
	}
	p.answer(b, pg, dev, cred)
	if pg = b.post(p.base+"/account/security/totp", nil); !strings.Contains(pg.body, `id="totp-secret"`) {
		t.Errorf("app set-up after the passkey: got %.800s, want the key", pg.body)
	}
}

// A citizen whose only passkey was blocked is not locked out: the password
// lets them in, and they may register a new passkey (a blocked one is no
// second factor).
func TestPasskeyBlockedDoesNotLockOut(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	cred, _ := p.enrol(b, p.device(), "phone")
	// A counter presented twice blocks it, as a clone's would.
	for _, want := range []store.WebAuthnUse{store.WebAuthnUsed, store.WebAuthnRegressed} {
		if use, _, err := p.e.Store.RecordWebAuthnUse(context.Background(), cred.ID, cred.SignCount+1000, false, time.Now()); err != nil || use != want {
			t.Fatalf("record a use: got %v, %v; want %v", use, err, want)
		}
	}
	p.logout(b)
	pg := p.account(b) // the password alone: the blocked passkey is not asked
	if !strings.Contains(pg.body, "Đã khoá: có dấu hiệu bị sao chép") {
		t.Errorf("account page: want the passkey shown as blocked: %.1500s", pg.body)
	}
	p.enrol(b, p.device(), "Điện thoại mới")
}
