package oidc

import (
	"context"
	"net/http"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/server"
)

// logoutPage is the view model of logout_confirm.html.
type logoutPage struct {
	Action string
	Fields map[string]string
}

// endSession guards the library's end_session endpoint. OpenID Connect
// RP-Initiated Logout §2: the OP must ask the citizen before ending their
// session when there is no id_token_hint or the hint names another
// session; otherwise any page could log a citizen out (logout CSRF). The
// confirmation is a same-origin form post back to this endpoint.
func (p *Provider) endSession(next http.Handler) http.Handler {
	forms := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, nil), "err_generic")
			return
		}
		confirmed := r.Method == http.MethodPost && r.PostForm.Get("confirm") == "yes" && forms.Check(r) == nil
		if !confirmed && p.mustConfirmLogout(r) {
			fields := map[string]string{}
			for _, k := range []string{"client_id", "post_logout_redirect_uri", "state", "ui_locales", "id_token_hint"} {
				if v := r.Form.Get(k); v != "" && len(v) < 8192 {
					fields[k] = v
				}
			}
			lang := server.Locale(r, strings.Fields(r.Form.Get("ui_locales")))
			p.o.Renderer.Render(w, r, http.StatusOK, "logout_confirm", lang, "logout_confirm_title", logoutPage{Action: pathEndSession, Fields: fields})
			return
		}
		ctx := context.WithValue(r.Context(), httpKey{}, httpPair{w: w, r: r})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// mustConfirmLogout: the browser has a session and the request does not
// prove it comes from a portal of that very session.
func (p *Provider) mustConfirmLogout(r *http.Request) bool {
	sess := p.o.Login.Peek(r)
	if sess == nil {
		return false // nothing to end in this browser; a hint's session is ended by the library call
	}
	hint := r.Form.Get("id_token_hint")
	if hint == "" {
		return true
	}
	var claims zoidc.IDTokenClaims
	if _, err := zoidc.ParseToken(hint, &claims); err != nil {
		return true
	}
	sid, _ := claims.Claims["sid"].(string)
	return sid != sess.SID
}
