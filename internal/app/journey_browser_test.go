package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/browsertest"
)

// The citizen's whole journey in a real browser, with messages through a
// real SMTP server: register from the login page of a portal, enter the
// code from the email, log in, approve what the portal asks, see the
// release on /account/activity, withdraw on /account/portals — the
// portal's refresh token stops working — and be asked again next time.
func TestBrowserCitizenJourney(t *testing.T) {
	s := startSelf(t, false, nil)
	p := newPortal(t, s.env, "tax-portal", []string{"openid", "profile", "offline_access"}, nil)
	ctx := browsertest.New(t, 90*time.Second)
	const (
		number = "001090000321"
		pw     = "một câu mật khẩu đủ dài 2026"
		email  = "hoa@example.vn"
	)
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("register-link")),
		chromedp.Click(chromedp.ID("register-link")),
		chromedp.WaitVisible(chromedp.ID("register")),
		chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("name"), "Phạm Thị Hoa"),
		chromedp.SetValue(chromedp.ID("birthdate"), "1990-03-08"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.SendKeys(chromedp.ID("password2"), pw),
		chromedp.Submit(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.CSS(`input[autocomplete="one-time-code"]`)),
	)
	if err != nil {
		t.Fatalf("registration form: %v", err)
	}
	code := s.codeFor(t, email)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Submit(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.CSS(`a.button.primary`)),
		chromedp.Click(chromedp.CSS(`a.button.primary`)),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("consent-approve")),
	)
	if err != nil {
		t.Fatalf("code, then login: %v", err)
	}
	// Headless Chromium asks for English; the citizen switches to
	// Vietnamese with the switcher, and the step stays where it was.
	if got := text("#consent-attributes"); !strings.Contains(got, "Full name") || !strings.Contains(got, "Date of birth") {
		t.Errorf("consent page lists %q, want the name and the birthdate", got)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("lang"), "vi"),
		chromedp.Submit(chromedp.ID("lang")),
		chromedp.WaitVisible(chromedp.ID("consent-approve")),
	)
	if err != nil {
		t.Fatalf("switch to Vietnamese: %v", err)
	}
	if got := text("#consent-attributes"); !strings.Contains(got, "Họ và tên") || !strings.Contains(got, "Ngày sinh") {
		t.Errorf("consent page lists %q, want the name and the birthdate", got)
	}
	if got := text("#consent-portal"); got != "Cổng dịch vụ thuế" {
		t.Errorf("consent page names %q", got)
	}
	saveScreenshot(t, ctx, "citizen-consent.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("consent-approve")), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	var tok *zoidc.Tokens[*zoidc.IDTokenClaims]
	select {
	case tok = <-p.tokens:
	case <-time.After(20 * time.Second):
		t.Fatal("the portal got no tokens")
	}
	if tok.IDTokenClaims.Name != "Phạm Thị Hoa" || tok.IDTokenClaims.Birthdate != "1990-03-08" {
		t.Errorf("ID token: name %q birthdate %q", tok.IDTokenClaims.Name, tok.IDTokenClaims.Birthdate)
	}

	// The release, in words, on the activity page.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/account/activity"), chromedp.WaitVisible(chromedp.CSS(".ledger-entry"))); err != nil {
		t.Fatalf("activity: %v", err)
	}
	if got := text(".ledger-entry"); !strings.Contains(got, "Cổng dịch vụ thuế") {
		t.Errorf("ledger entry %q does not name the portal", got)
	}
	// Withdraw: the portal's refresh token stops working.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/account/portals"),
		chromedp.WaitVisible(chromedp.CSS(".portal .portal-withdraw")),
		chromedp.Click(chromedp.CSS(".portal .portal-withdraw")),
		chromedp.WaitNotPresent(chromedp.CSS(".portal .portal-withdraw")),
	)
	if err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	_, err = rp.RefreshTokens[*zoidc.IDTokenClaims](context.Background(), p.party, tok.RefreshToken, "", "")
	var oerr *zoidc.Error
	if !errors.As(err, &oerr) || oerr.ErrorType != zoidc.InvalidGrant {
		t.Errorf("refresh after withdrawal: got %v, want invalid_grant", err)
	}
	// The next login asks again.
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("consent-approve"))); err != nil {
		t.Fatalf("next login: %v", err)
	}
}

// saveScreenshot writes the page to docs/NAME for the README when the file
// is missing or -update-screenshot is set.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "..", "docs", name)
	if _, err := os.Stat(out); *updateScreenshot || os.IsNotExist(err) {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
