package app_test

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/browsertest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/admin-console.png from the browser test")

// rpServer is a portal whose relying party (zitadel/oidc's rp) is set up
// once its client exists: its address must be known to register it.
type rpServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	handler http.Handler
}

func newRPServer(t *testing.T) *rpServer {
	p := &rpServer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		h := p.handler
		p.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// use makes the portal a relying party of issuer with id and secret.
func (p *rpServer) use(t *testing.T, issuer, id, secret string) {
	t.Helper()
	key := []byte("0123456789abcdef0123456789abcdef")
	cookies := httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())
	party, err := rp.NewRelyingPartyOIDC(context.Background(), issuer, id, secret, p.srv.URL+"/callback",
		[]string{"openid", "profile"}, rp.WithPKCE(cookies))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login", rp.AuthURLHandler(func() string { return "st" }, party))
	mux.Handle("/callback", rp.CodeExchangeHandler(func(w http.ResponseWriter, r *http.Request, tok *zoidc.Tokens[*zoidc.IDTokenClaims], state string, _ rp.RelyingParty) {
		w.Write([]byte("portal: logged in as " + tok.IDTokenClaims.Name))
	}, party))
	p.mu.Lock()
	p.handler = mux
	p.mu.Unlock()
}

// citizenLogsIn logs a citizen in to the portal with a plain HTTP browser
// and reports whether the portal got its tokens.
func (p *rpServer) citizenLogsIn(t *testing.T, e *adminEnv, b *browser, number string) bool {
	t.Helper()
	pg := b.get(p.srv.URL + "/login")
	if isLoginForm(pg) {
		pg = b.login(e.base, pg, number, testPassword)
	}
	return strings.HasPrefix(pg.body, "portal: logged in as ")
}

// TestAdminConsoleInBrowser drives the console in Chromium at the default
// admin.min_level 3: each administrator registers a passkey on a virtual
// authenticator of their own (the owner's laptop, the others' security
// keys) and logs in to the console with it. The owner
// registers a portal that a relying party then logs a citizen in through,
// rotates its secret (the old one stops after the overlap); an rp-manager
// is refused the key page; a helpdesk resets a citizen's app and passkey
// with a reason; an auditor sees it in the audit log and exports it, and
// every form is refused. It takes the README's screenshot.
func TestAdminConsoleInBrowser(t *testing.T) {
	e := newPasskeyAdminEnv(t)
	owner := e.addPerson(ownerNumber, true, "owner")
	rpm := e.addPerson(rpNumber, true, "rp-manager")
	hd := e.addPerson(helpdeskNumber, true, "helpdesk")
	au := e.addPerson(auditorNumber, true, "auditor")
	lost := e.addPerson(plainNumber, false) // has lost the phone
	e.addPasskey(lost.id, "Điện thoại cũ", false)
	const portalCitizen = "001080000006"
	e.addPerson(portalCitizen, true)
	portal := newRPServer(t)
	ctx := browsertest.New(t, 180*time.Second)
	enableVirtualAuthenticators(t, ctx)

	// Each administrator's own device; only the one in use is touched.
	devices := map[string]cdpwebauthn.AuthenticatorID{}
	use := func(p person) {
		t.Helper()
		for number, id := range devices {
			setPresence(t, ctx, id, number == p.number)
		}
	}
	for _, p := range []person{owner, rpm, hd, au} {
		if p == owner { // the owner's laptop; the others' security keys
			devices[p.number] = virtualAuthenticator(t, ctx, true, false)
		} else {
			devices[p.number] = virtualSecurityKey(t, ctx)
		}
		use(p)
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.base+"/account/security"),
			chromedp.WaitVisible(chromedp.ID("number")),
			chromedp.SendKeys(chromedp.ID("number"), p.number),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
			chromedp.WaitVisible(chromedp.ID("passkey-add")),
		)
		if err != nil {
			t.Fatalf("%s logs in to the account page: %v", p.number, err)
		}
		enrolPasskey(t, ctx, e.base, "Khoá quản trị")
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("logged-out")),
		)
		if err != nil {
			t.Fatalf("%s logs out of the account page: %v", p.number, err)
		}
	}

	// login opens path and logs p in with the passkey alone: the browser
	// offers it in autofill, which the virtual authenticator answers at
	// once; otherwise p presses the passkey button.
	consoleJS := `document.getElementById('admin-who') || document.getElementById('admin-error') ? true : null`
	login := func(p person, path string) {
		t.Helper()
		use(p)
		if err := chromedp.Do(ctx, chromedp.Navigate(e.base+path)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		reached := func(wait time.Duration) bool {
			for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if got, err := chromedp.Run(ctx, chromedp.Evaluate[*bool](consoleJS)); err == nil && got != nil {
					return true
				}
			}
			return false
		}
		if !reached(5 * time.Second) {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("use-webauthn"))); err != nil {
				t.Fatalf("console login of %s: passkey button: %v", p.number, err)
			}
			if !reached(20 * time.Second) {
				t.Fatalf("console login of %s: the passkey did not open the console", p.number)
			}
		}
		evs := e.auditEvents("admin.login")
		if len(evs) == 0 || evs[len(evs)-1].Target != "admin:"+p.id || evs[len(evs)-1].Details["level"] != "3" {
			t.Fatalf("console login of %s: want an admin.login at level 3, got %+v", p.number, evs)
		}
	}
	logout := func() {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("logged-out")),
		); err != nil {
			t.Fatalf("console logout: %v", err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	// The owner registers the portal; the dashboard counts the owner's session.
	login(owner, "/admin")
	if n := text("#stat-sessions"); n != "1" {
		t.Errorf("dashboard: got %s live sessions, want 1", n)
	}
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/admin/clients"]`)),
		chromedp.WaitVisible(chromedp.ID("new-client")),
		chromedp.Click(chromedp.ID("new-client")),
		chromedp.WaitVisible(chromedp.ID("client-form")),
		chromedp.SendKeys(chromedp.ID("id"), "tax-portal"),
		chromedp.SendKeys(chromedp.ID("name"), "Cổng thuế"),
		chromedp.SendKeys(chromedp.ID("redirect_uris"), portal.srv.URL+"/callback"),
		chromedp.SetValue(chromedp.ID("access_token_lifetime"), "5m"),
		chromedp.Click(chromedp.ID("save-client")),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
	)
	if err != nil {
		t.Fatalf("register the portal: %v", err)
	}
	secret := text("#client-secret")
	portal.use(t, e.base, "tax-portal", secret)
	if !portal.citizenLogsIn(t, e, newBrowser(t), portalCitizen) {
		t.Fatal("the relying party could not log the citizen in through the new client")
	}

	// The owner rotates the secret with an hour of overlap.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("back-to-client")),
		chromedp.WaitVisible(chromedp.ID("rotate-secret")),
		chromedp.SetValue(chromedp.ID("overlap"), "1h"),
		chromedp.Click(chromedp.ID("rotate-secret")),
		chromedp.WaitVisible(chromedp.ID("client-secret")),
	)
	if err != nil {
		t.Fatalf("rotate the secret: %v", err)
	}
	newSecret := text("#client-secret")
	if newSecret == secret || !strings.Contains(text("#previous-until"), "+07:00") {
		t.Fatalf("rotation: got the same secret or no overlap")
	}
	if !portal.citizenLogsIn(t, e, newBrowser(t), portalCitizen) {
		t.Fatal("during the overlap the old secret must still work")
	}
	portal.use(t, e.base, "tax-portal", newSecret)
	if !portal.citizenLogsIn(t, e, newBrowser(t), portalCitizen) {
		t.Fatal("the new secret does not work")
	}

	// The screenshot for the README: the client page on a desktop.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1100, 860),
		chromedp.Click(chromedp.ID("back-to-client")),
		chromedp.WaitVisible(chromedp.ID("client-form")),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(shot)); err != nil || img.Bounds().Dx() < 1000 {
		t.Fatalf("screenshot: %v, want a PNG at least 1000 pixels wide", err)
	}
	out := filepath.Join("..", "..", "docs", "admin-console.png")
	if _, err := os.Stat(out); *updateScreenshot || os.IsNotExist(err) {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(412, 915)); err != nil {
		t.Fatal(err)
	}
	logout()

	// After the overlap only the new secret authenticates the portal.
	e.clk.Advance(61 * time.Minute)
	if clientAuth(t, e, "tax-portal", secret) || !clientAuth(t, e, "tax-portal", newSecret) {
		t.Fatal("after the overlap: want the old secret refused and the new one accepted")
	}

	// An rp-manager cannot see the keys.
	login(rpm, "/admin/keys")
	if msg := text("#admin-error"); msg == "" {
		t.Fatal("rp-manager on the key page: want the refusal")
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('nav a[href="/admin/keys"], table').length`)); err != nil || n != 0 {
		t.Errorf("rp-manager's refusal page shows keys or a link to them (%d, %v)", n, err)
	}
	logout()

	// A helpdesk resets the lost phone's app with a reason.
	reason := "Mất điện thoại, đã xác minh CCCD tại quầy"
	login(hd, "/admin/citizens?q="+plainNumber)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/admin/citizens/`+lost.id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("reset-totp")),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role=status]`)),
	)
	if err != nil {
		t.Fatalf("helpdesk reset: %v", err)
	}
	if ok, _ := e.TOTP.Enrolled(context.Background(), lost.id); ok {
		t.Fatal("the citizen's app is still enrolled after the reset")
	}
	// And the passkey on the lost phone.
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("webauthn-reason")),
		chromedp.SetValue(chromedp.ID("webauthn-credential"), "all"),
		chromedp.SendKeys(chromedp.ID("webauthn-reason"), reason),
		chromedp.Click(chromedp.ID("reset-webauthn")),
	)
	if err != nil {
		t.Fatalf("helpdesk passkey removal: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, "done=admin_msg_webauthn_reset") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helpdesk passkey removal: at %s (%v), want the page with the notice", loc, err)
		}
	}
	if n := len(e.passkeys(lost.id)); n != 0 {
		t.Fatalf("the citizen has %d passkeys after the removal, want 0", n)
	}
	logout()

	// An auditor sees the reset in the audit log, exports it, and every
	// form is refused.
	login(au, "/admin/audit?since=&action=totp.reset")
	rows := text("#audit-events tbody")
	if !strings.Contains(rows, "totp.reset") || !strings.Contains(rows, "admin:"+hd.id) || !strings.Contains(rows, "citizen:"+lost.id) {
		t.Fatalf("audit log for the auditor: got %q, want the helpdesk's reset", rows)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#audit-events tbody a`)),
		chromedp.WaitVisible(chromedp.ID("event-action")),
	)
	if err != nil || !strings.Contains(text("main"), reason) {
		t.Fatalf("event page: %v, want the reason shown", err)
	}
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(new URL(document.querySelector('#export-csv') ? document.querySelector('#export-csv').href : '/admin/audit/export.csv?since=&action=totp.reset', location)).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		csv, err = chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/admin/audit/export.csv?since=&action=totp.reset').then(r => r.text())`, chromedp.EvalAwaitPromise))
	}
	if err != nil || !strings.HasPrefix(csv, "seq,time,actor,action") || !strings.Contains(csv, "totp.reset") || !strings.Contains(csv, reason) {
		t.Fatalf("CSV export: %v %.300q", err, csv)
	}
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[method=post]:not([action="/admin/logout"]):not([action="/lang"])').length`))
	if err != nil || forms != 0 {
		t.Errorf("auditor's page offers %d forms (%v), want none", forms, err)
	}
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Promise.all([
		'/admin/clients/tax-portal/disable', '/admin/clients/tax-portal/secret', '/admin/keys/rotate',
		'/admin/citizens/`+lost.id+`/disable', '/admin/admins/grant',
	].map(u => fetch(u, {method: 'POST', body: new URLSearchParams({confirm: 'yes', overlap: '0', number: '`+auditorNumber+`', role: 'owner'})}).then(r => r.status)))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s != http.StatusForbidden {
			t.Errorf("auditor's form posts: got statuses %v, want 403 each", statuses)
			break
		}
	}
	if c, _ := e.Store.ClientByID(context.Background(), "tax-portal"); c == nil || c.Disabled {
		t.Error("an auditor's post changed the client")
	}
	logout()
}
