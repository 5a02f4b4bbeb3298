package account

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// PortalRevoker ends what a portal holds once the citizen withdraws
// consent (internal/oidc: the client's refresh and access tokens). Keys of
// other protocols are its no-op.
type PortalRevoker interface {
	RevokePortal(ctx context.Context, citizenID, portal string) error
}

const portalsPath = "/account/portals"

func (a *Account) mountPortals(post func(string, http.HandlerFunc), mux *http.ServeMux) {
	if a.o.Consents == nil {
		return
	}
	mux.HandleFunc("GET "+portalsPath, a.portals)
	post(portalsPath+"/withdraw", a.withdrawPortal)
}

// portalsPage is the view model of account_portals.html.
type portalsPage struct {
	Portals []portalView
	Message string
}

type portalView struct {
	Key, Name  string
	Attributes []string
	Since      string
	LegalBasis string
}

// requirePortals is require for the portals page: back there after the
// login.
func (a *Account) requirePortals(w http.ResponseWriter, r *http.Request) *session.Session {
	fresh := a.o.Fresh
	req := login.Request{Protocol: Protocol, RequestID: portalsPath, MinLevel: assurance.Low, MaxAge: &fresh}
	if sess := a.o.Login.Session(r); sess != nil && a.o.Login.Evaluate(sess, req).Satisfied {
		return sess
	}
	a.o.Login.Begin(w, r, req)
	return nil
}

func (a *Account) portals(w http.ResponseWriter, r *http.Request) {
	sess := a.requirePortals(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	lang := server.Locale(r, nil)
	list, err := a.o.Consents.ConsentsOf(ctx, sess.CitizenID)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list consents", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	pg := portalsPage{}
	if r.URL.Query().Get("done") == "withdrawn" {
		pg.Message = a.o.Renderer.T(lang, "portals_msg_withdrawn")
	}
	// The latest consent in force of each portal, newest first.
	seen := map[string]bool{}
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		if seen[c.Portal] || !c.WithdrawnAt.IsZero() {
			seen[c.Portal] = true
			continue
		}
		seen[c.Portal] = true
		v := portalView{Key: c.Portal, Name: c.PortalName, Since: c.GrantedAt.Format(time.DateOnly), LegalBasis: c.LegalBasis}
		if v.Name == "" {
			v.Name = c.Portal
		}
		for _, at := range release.Parse(c.Attributes) {
			v.Attributes = append(v.Attributes, a.o.Renderer.T(lang, string(at.Label())))
		}
		pg.Portals = append(pg.Portals, v)
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_portals", lang, "portals_title", pg)
}

// withdrawPortal records the withdrawal first, then ends the portal's
// tokens: a failure after the record leaves the citizen able to try again
// (the tokens check the marker, the next login asks again).
func (a *Account) withdrawPortal(w http.ResponseWriter, r *http.Request) {
	sess := a.requirePortals(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	portal := r.PostFormValue("portal")
	err := a.o.Consents.WithdrawConsent(ctx, sess.CitizenID, portal, a.o.Sessions.Now())
	if errors.Is(err, store.ErrNotFound) {
		http.Redirect(w, r, portalsPath, http.StatusSeeOther)
		return
	}
	if err == nil && a.o.Portals != nil {
		err = a.o.Portals.RevokePortal(ctx, sess.CitizenID, portal)
	}
	if err != nil {
		a.o.Log.ErrorContext(ctx, "withdraw consent", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + sess.CitizenID, Action: "consent.withdraw",
		Target: "citizen:" + sess.CitizenID, Outcome: "success", ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"portal": portal}})
	http.Redirect(w, r, portalsPath+"?done=withdrawn", http.StatusSeeOther)
}
