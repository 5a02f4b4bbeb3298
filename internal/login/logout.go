package login

import (
	"context"

	"github.com/citizenid/citizenid/internal/session"
)

// LogoutHook lets a protocol log the citizen out of the relying parties
// that took part in an SSO session that just ended. In the citizen's
// browser (then is where the browser goes afterwards) it returns where to
// send the browser now: a page of its own that logs out front-channel and
// ends at then, or then unchanged. Without a browser (then is empty, e.g.
// an administrator ended the session) it does what it can and returns "".
type LogoutHook func(ctx context.Context, ended *session.Session, then string) string

// OnLogout registers a logout hook; call it before serving.
func (e *Engine) OnLogout(h LogoutHook) { e.logout = append(e.logout, h) }

// AfterLogout runs the logout hooks for a session that ended and returns
// where to send the browser (then when there is nothing to do). Every
// place that ends a session calls it: OIDC end_session, the account page,
// the administrators' console (with then empty).
func (e *Engine) AfterLogout(ctx context.Context, ended *session.Session, then string) string {
	if ended == nil {
		return then
	}
	for _, h := range e.logout {
		then = h(ctx, ended, then)
	}
	return then
}
