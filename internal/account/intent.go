package account

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// An action on an account page that needs a fresher or higher login
// (adding a passkey, removing the app) is not lost to the login: the
// form the citizen posted is kept as an intent, bound to their browser,
// and carried out when the login completes, so adding a passkey after a
// step-up ends on "create passkey" with the name the citizen typed.
// Forms holding a password are never kept; the citizen sees the page
// again instead.

// intent is a posted account form waiting for a login.
type intent struct {
	Path    string     `json:"path"`
	Form    url.Values `json:"form"`
	Browser string     `json:"browser"`
}

var intents = session.NewBucket[intent]("intent")

// intentTTL bounds how long an intent waits for its login.
const intentTTL = 15 * time.Minute

const resumePath = "/account/resume/"

// purposes say why an account page asks for a login, by path prefix; the
// longest prefix wins.
var purposes = map[string]string{
	securityPath + "/webauthn/remove": "reason_remove_passkey",
	securityPath + "/webauthn":        "reason_add_passkey",
	securityPath + "/totp/remove":     "reason_remove_totp",
	securityPath + "/totp":            "reason_totp_setup",
	securityPath + "/second-factor":   "reason_second_factor",
	securityPath + "/certificates":    "reason_certificates",
	passwordPath:                      "reason_change_password",
	contactsPath:                      "reason_contacts",
	sessionsPath:                      "reason_sessions",
}

// purpose is the catalogue key of why path asks for a login: its own
// reason, or (with a session) a fresher login, or (none) the account.
func purpose(path string, hasSession bool) string {
	best := ""
	for p := range purposes {
		if (path == p || strings.HasPrefix(path, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	switch {
	case best != "":
		return purposes[best]
	case hasSession:
		return "reason_account_fresh"
	}
	return "reason_account"
}

// keepIntent stores the posted form of r to be carried out after the
// login, returning where the login comes back to; returnTo when the form
// cannot be kept (not resumable, or it holds a password).
func (a *Account) keepIntent(w http.ResponseWriter, r *http.Request, returnTo string) string {
	if r.Method != http.MethodPost || a.resumable[r.URL.Path] == nil {
		return returnTo
	}
	if err := r.ParseForm(); err != nil {
		return returnTo
	}
	for k := range r.PostForm {
		if strings.Contains(k, "password") {
			return returnTo
		}
	}
	id := session.RandomToken(24)
	in := intent{Path: r.URL.Path, Form: r.PostForm, Browser: a.o.Login.Browser(w, r)}
	if err := intents.Put(r.Context(), a.o.Sessions, id, in, intentTTL); err != nil {
		a.o.Log.WarnContext(r.Context(), "keep account intent", "err", err)
		return returnTo
	}
	return resumePath + id
}

// resume carries out a kept intent once: its form is handled as if posted
// now, by the handler it was posted to. An intent that is gone, or from
// another browser, leaves the citizen on the security page.
func (a *Account) resume(w http.ResponseWriter, r *http.Request) {
	var in intent
	err := intents.Take(r.Context(), a.o.Sessions, r.PathValue("id"), &in)
	h := a.resumable[in.Path]
	if err != nil || h == nil || !a.o.Login.SameBrowser(r, in.Browser) {
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			a.o.Log.ErrorContext(r.Context(), "resume account intent", "err", err)
			a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
			return
		}
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodPost
	r2.URL.Path, r2.URL.RawQuery = in.Path, ""
	r2.Form, r2.PostForm = in.Form, in.Form
	h(w, r2)
}
