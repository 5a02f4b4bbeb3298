package login

import (
	"crypto/subtle"
	"net/http"

	"github.com/citizenid/citizenid/internal/session"
)

// Browser binding. Every step after a protocol request arrives (the
// protocol's own continuation, the login pages, Complete) must come from
// the browser that brought the request: otherwise an attacker who starts a
// login at a portal could send the victim the login link and collect what
// the victim's login produces. Each browser carries a random value in a
// cookie of its own (HttpOnly, SameSite=Lax, session lifetime); parked
// requests and login transactions record its hash, and every later step
// compares. A request or transaction is worthless in another browser.

// browserCookie is the binding cookie's name for the SSO cookie's name.
func (c CookieOptions) browserCookie() string { return c.Name + "-browser" }

// Browser returns the binding of the request's browser (the hash of its
// binding cookie), giving the browser a fresh binding cookie on w when it
// has none.
func (s *SSO) Browser(w http.ResponseWriter, r *http.Request) string {
	for _, c := range r.CookiesNamed(s.cookie.browserCookie()) {
		if len(c.Value) == 43 {
			return session.Hash(c.Value)
		}
	}
	v := session.RandomToken(32)
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie.browserCookie(),
		Value:    v,
		Path:     "/",
		Secure:   s.cookie.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	// Later reads of this request see the new binding too.
	r.AddCookie(&http.Cookie{Name: s.cookie.browserCookie(), Value: v})
	return session.Hash(v)
}

// SameBrowser reports whether the request comes from the browser whose
// binding is bound. An empty binding matches nothing.
func (s *SSO) SameBrowser(r *http.Request, bound string) bool {
	if bound == "" {
		return false
	}
	for _, c := range r.CookiesNamed(s.cookie.browserCookie()) {
		if len(c.Value) == 43 && subtle.ConstantTimeCompare([]byte(session.Hash(c.Value)), []byte(bound)) == 1 {
			return true
		}
	}
	return false
}
