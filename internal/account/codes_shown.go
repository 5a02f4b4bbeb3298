package account

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// New recovery codes are shown after a redirect (reloading the page never
// confirms the app twice) on their own page, until the citizen says they
// saved them: to download as a text file, to print, and only then gone.

type shownCodes struct {
	CitizenID string   `json:"citizen_id"`
	Codes     []string `json:"codes"`
}

var shownBucket = session.NewBucket[shownCodes]("codes")

// shownTTL bounds how long new codes can be shown again.
const shownTTL = 30 * time.Minute

const recoveryCodesPath = securityPath + "/recovery-codes/"

// codesPage is the view model of account_codes.html.
type codesPage struct {
	ID    string
	Codes []string
}

// showCodesLater keeps codes for the citizen and returns the page that
// shows them.
func (a *Account) showCodesLater(r *http.Request, citizenID string, codes []string) (string, error) {
	id := session.RandomToken(24)
	if err := shownBucket.Put(r.Context(), a.o.Sessions, id, shownCodes{CitizenID: citizenID, Codes: codes}, shownTTL); err != nil {
		return "", err
	}
	return recoveryCodesPath + id, nil
}

// loadCodes loads the codes of the URL for the signed-in citizen; it
// answers the request itself and returns nil otherwise.
func (a *Account) loadCodes(w http.ResponseWriter, r *http.Request) (*shownCodes, bool) {
	sess := a.require(w, r, assurance.Low)
	if sess == nil {
		return nil, false
	}
	var sc shownCodes
	err := shownBucket.Load(r.Context(), a.o.Sessions, r.PathValue("id"), &sc)
	if errors.Is(err, session.ErrNotFound) || (err == nil && sc.CitizenID != sess.CitizenID) {
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return nil, false
	} else if err != nil {
		a.o.Log.ErrorContext(r.Context(), "load recovery codes", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return nil, false
	}
	return &sc, true
}

func (a *Account) showCodes(w http.ResponseWriter, r *http.Request) {
	sc, ok := a.loadCodes(w, r)
	if !ok {
		return
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_codes", server.Locale(r, nil), "recovery_codes_title",
		codesPage{ID: r.PathValue("id"), Codes: sc.Codes})
}

// downloadCodes answers the codes as a text file.
func (a *Account) downloadCodes(w http.ResponseWriter, r *http.Request) {
	sc, ok := a.loadCodes(w, r)
	if !ok {
		return
	}
	lang := server.Locale(r, nil)
	var b strings.Builder
	b.WriteString(a.o.Renderer.T(lang, "site_name") + " — " + a.o.Renderer.T(lang, "recovery_codes_title") + "\r\n")
	b.WriteString(a.o.Renderer.T(lang, "recovery_codes_file_note") + "\r\n\r\n")
	for _, c := range sc.Codes {
		b.WriteString(c + "\r\n")
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="citizenid-recovery-codes.txt"`)
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(b.String()))
}

// savedCodes forgets the codes once the citizen saved them.
func (a *Account) savedCodes(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loadCodes(w, r); !ok {
		return
	}
	if r.PostFormValue("saved") != "yes" {
		http.Redirect(w, r, recoveryCodesPath+r.PathValue("id"), http.StatusSeeOther)
		return
	}
	if err := shownBucket.Delete(r.Context(), a.o.Sessions, r.PathValue("id")); err != nil {
		a.o.Log.ErrorContext(r.Context(), "forget recovery codes", "err", err)
	}
	http.Redirect(w, r, securityPath+"?done=codes_saved", http.StatusSeeOther)
}
