package login

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// How says how a session ends.
type How struct {
	// Actor is who ends it, for the audit log: "citizen:ID", "admin:ID",
	// "client:ID", "system".
	Actor string
	// Reason is why: "logout", "oidc end_session", "saml slo",
	// "administrator", "account disabled", …
	Reason string
	// W and R are the citizen's browser, when the session ends there: its
	// SSO cookie is cleared (when the session is this browser's), and
	// hooks may send the browser through front-channel pages before Then,
	// where it goes at the end. Without a browser both are nil and Then
	// is empty.
	W    http.ResponseWriter
	R    *http.Request
	Then string
	// Handled names a protocol whose own logout is already under way (a
	// SAML single logout propagates itself): its hook only keeps its books.
	Handled string
}

// LogoutHook lets a protocol log the citizen out of its relying parties
// that took part in a session that just ended. It returns where to send
// the browser now (how.Then unchanged, or a page of its own that ends at
// how.Then); without a browser it does what it can and returns "".
type LogoutHook func(ctx context.Context, ended *session.Session, how How) string

// OnLogout registers a logout hook; call it before serving.
func (e *Engine) OnLogout(h LogoutHook) { e.logout = append(e.logout, h) }

// End is the one way a session ends, whoever ends it (the citizen on the
// account page, a portal's logout, a SAML single logout, an
// administrator, a disabled account): it deletes the session, records
// session.end once in the audit log, and runs every registered hook once
// (OIDC: refresh and access tokens end; SAML: its service providers are
// logged out). It returns where to send the browser (how.Then when
// nothing needs it). A nil session has nothing to end.
func (e *Engine) End(ctx context.Context, sess *session.Session, how How) string {
	if how.W != nil && how.R != nil {
		if mine := e.Peek(how.R); mine == nil || sess == nil || mine.SID == sess.SID {
			e.clearCookie(how.W)
		}
	}
	if sess == nil {
		return how.Then
	}
	if err := e.o.Sessions.Delete(ctx, sess); err != nil {
		// The hooks still end what the session gave portals.
		e.o.Log.ErrorContext(ctx, "end session", "err", err)
	}
	e.o.Audit.Record(ctx, audit.Event{Actor: how.Actor, Action: "session.end", Target: "citizen:" + sess.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"reason": how.Reason, "participants": strconv.Itoa(len(sess.Participants))}})
	for _, h := range e.logout {
		how.Then = h(ctx, sess, how)
	}
	return how.Then
}

// EndAll ends every live session of the citizen but keep (a session id,
// or "" for none) through End, without a browser (an operator, a password
// recovery or change, an account taken over), and returns how many ended.
// It stops at the first error listing them.
func (e *Engine) EndAll(ctx context.Context, citizenID, keep string, how How) (int, error) {
	list, err := e.o.Sessions.ListForCitizen(ctx, citizenID)
	if err != nil {
		return 0, fmt.Errorf("list sessions: %w", err)
	}
	how.W, how.R, how.Then = nil, nil, ""
	n := 0
	for _, s := range list {
		if s.SID != keep {
			e.End(ctx, s, how)
			n++
		}
	}
	return n, nil
}

// ReasonExpired is How.Reason for a session that ended on its idle or
// absolute timeout (SweepExpired): nobody logged out, so the tokens a
// portal received with offline_access keep working.
const ReasonExpired = "expired"

// SweepExpired ends, through End, up to limit sessions whose timeouts
// passed since the last sweep; each runs its hooks once, on whichever
// node claims it. It returns how many it ended.
func (e *Engine) SweepExpired(ctx context.Context, limit int) (int, error) {
	dead, err := e.o.Sessions.ClaimExpired(ctx, limit)
	for _, s := range dead {
		e.End(ctx, s, How{Actor: "system", Reason: ReasonExpired})
	}
	return len(dead), err
}

// RunExpiry sweeps expired sessions every interval until ctx ends.
func (e *Engine) RunExpiry(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for {
				n, err := e.SweepExpired(ctx, 100)
				if err != nil {
					e.o.Log.ErrorContext(ctx, "sweep expired sessions", "err", err)
				}
				if n < 100 || err != nil {
					break
				}
			}
		}
	}
}
