package account

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/ui"
)

const sessionsPath = "/account/sessions"

// sessionView is one line of account_sessions.html.
type sessionView struct {
	SID        string
	Current    bool
	Browser    string // "" when unknown
	OS         string
	IP         string
	Started    string
	LastActive string
	Level      int
	Portals    []string
}

type sessionsPage struct {
	Sessions []sessionView
	Message  string
}

// sessions lists the citizen's live SSO sessions, the current one first.
func (a *Account) sessions(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, sessionsPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	lang := server.Locale(r, nil)
	list, err := a.o.Sessions.ListForCitizen(ctx, sess.CitizenID)
	if err != nil {
		a.unavailable(w, r, "list sessions", err)
		return
	}
	slices.SortStableFunc(list, func(x, y *session.Session) int {
		if (x.SID == sess.SID) != (y.SID == sess.SID) {
			if x.SID == sess.SID {
				return -1
			}
			return 1
		}
		return y.LastSeen.Compare(x.LastSeen)
	})
	var pg sessionsPage
	for _, s := range list {
		v := sessionView{
			SID: s.SID, Current: s.SID == sess.SID, IP: s.Device.IP,
			Started: ui.Clock(s.CreatedAt), LastActive: ui.Clock(s.LastSeen),
			Level: int(a.o.Login.Evaluate(s, login.Request{MinLevel: assurance.Low}).Level),
		}
		v.Browser, v.OS = s.Device.Browser, s.Device.OS
		for _, p := range s.Participants {
			v.Portals = append(v.Portals, a.portalName(ctx, p))
		}
		pg.Sessions = append(pg.Sessions, v)
	}
	if r.URL.Query().Get("done") == "ended" {
		pg.Message = a.o.Renderer.T(lang, "acct_session_ended")
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_sessions", lang, "acct_sessions_title", pg)
}

// portalName is the registered name of a session participant, or its
// identifier when it is no longer registered.
func (a *Account) portalName(ctx context.Context, p session.Participant) string {
	if a.o.PortalName != nil {
		if n := a.o.PortalName(ctx, p.Protocol, p.ID); n != "" {
			return n
		}
	}
	return p.ID
}

// endSession ends one of the citizen's sessions, the current one too,
// through the one way sessions end (login.Engine.End): its refresh tokens
// end and every portal is told, as on any logout.
func (a *Account) endSession(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, sessionsPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	target, err := a.o.Sessions.BySID(ctx, r.PostFormValue("sid"))
	switch {
	case errors.Is(err, session.ErrNotFound) || (err == nil && target.CitizenID != sess.CitizenID):
		// Already ended, or not the citizen's: nothing to end either way.
		http.Redirect(w, r, sessionsPath+"?done=ended", http.StatusSeeOther)
		return
	case err != nil:
		a.unavailable(w, r, "load session", err)
		return
	}
	how := login.How{Actor: "citizen:" + sess.CitizenID, Reason: "account", W: w, R: r, Then: sessionsPath + "?done=ended"}
	if target.SID == sess.SID {
		how.Then = "/logged-out"
	}
	http.Redirect(w, r, a.o.Login.End(ctx, target, how), http.StatusSeeOther)
}
