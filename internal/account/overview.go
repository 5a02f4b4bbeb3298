package account

import (
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
)

// overviewPage is the view model of account_overview.html.
type overviewPage struct {
	Name          string
	Number        string // masked
	IdentityLevel int
	Proofed       bool
	Email, Phone  string
	EmailVerified bool
	PhoneVerified bool
	Message       string
}

// overview is /account: who the citizen is to CitizenID, in words, and
// the way to every page about them.
func (a *Account) overview(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, overviewPath)
	if sess == nil {
		return
	}
	lang := server.Locale(r, nil)
	c, err := a.o.Store.CitizenByID(r.Context(), sess.CitizenID)
	if err != nil {
		a.unavailable(w, r, "load citizen", err)
		return
	}
	pg := overviewPage{
		Name: c.Name, Number: audit.MaskNumber(c.Number), IdentityLevel: max(c.IdentityLevel, 1),
		Proofed: c.IdentityLevel >= 2, Email: c.Email, Phone: c.Phone,
		EmailVerified: c.EmailVerified, PhoneVerified: c.PhoneVerified,
	}
	if m := a.flash(r); m != "" {
		pg.Message = a.o.Renderer.T(lang, m)
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_overview", lang, "acct_overview_title", pg)
}

// unavailable answers a store or Redis failure: the citizen reads that the
// service is unavailable (never a wrong answer), the log gets the cause.
func (a *Account) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.o.Log.ErrorContext(r.Context(), what, "err", err)
	a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
}
