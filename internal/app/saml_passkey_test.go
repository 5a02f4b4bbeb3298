package app_test

import (
	"testing"
)

// A SAML portal is answered from an SSO session a passkey login made,
// without asking the citizen to log in again.
func TestSAMLFromPasskeySession(t *testing.T) {
	p := newPasskeys(t, false)
	b := stoppingBrowser(t)
	dev := p.device()
	cred, _ := p.enrol(b, dev, "Điện thoại")
	p.logout(b)
	pg, verifier := p.authorize(b, "urn:citizenid:loa:3")
	pg = p.answer(b, pg, dev, cred)
	p.claims(pg, verifier)

	sp := newSAMLPortal(t, p.e, "Cổng SAML", nil, nil)
	seen, trail := sp.hello(b, p.base, "", "")
	for _, pg := range trail {
		if isLoginForm(pg) {
			t.Fatalf("SAML login after a passkey login asked to log in again at %s", pg.url)
		}
	}
	if seen.NameID == "" {
		t.Errorf("SAML portal saw no NameID: %+v", seen)
	}
}
