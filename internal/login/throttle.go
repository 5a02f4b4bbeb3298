package login

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/session"
)

// Throttling policy (README, "Security"):
//
//   - per citizen number and client address: Options.AccountThrottle
//     (free failures, then waits that double): a burst from one address
//     stops there, and a citizen logging in from another address is not
//     affected;
//   - per client address: Options.IPThrottle, a higher limit (many
//     citizens share an address behind a carrier's NAT);
//   - per citizen number from every address: Options.AccountSlowdown,
//     which slows each further password check (at most its MaxDelay) and
//     never refuses, so no attacker can lock a citizen out;
//   - second factors and recovery codes, per citizen (reaching them needs
//     the password); methods that identify the citizen (a passkey), per
//     address.
//
// Every attempt is reserved before the check runs (session.Store.Reserve):
// deciding and counting are one Redis step, so concurrent wrong guesses get
// exactly the free attempts, never more. A success gives its attempt back.

// attempt is one throttle counter that a check must pass.
type attempt struct {
	key    string
	policy session.ThrottlePolicy
	// reset: a success clears the counter (the failures of this citizen
	// from this address); otherwise it gives back its own attempt only.
	reset bool
}

// passwordAttempts are the counters a password check passes, in order.
func passwordAttempts(number, ip string, account, perIP session.ThrottlePolicy) []attempt {
	return []attempt{
		{key: session.ThrottleKey("ip", ip), policy: perIP},
		{key: session.ThrottleKey("acct", number, ip), policy: account, reset: true},
	}
}

// accountKey counts a citizen number's failures from every address.
func accountKey(number string) string { return session.ThrottleKey("acctall", number) }

// secondFactorAttempt is the counter of a citizen's one-time codes.
func secondFactorAttempt(citizenID string, p session.ThrottlePolicy) attempt {
	return attempt{key: session.ThrottleKey("otp", citizenID), policy: p, reset: true}
}

// reserve takes an attempt on every counter. When one demands a wait, it
// gives back those already taken, audits the refusal, answers 429 with
// the step's page (which still offers the citizen's other ways in) and
// reports false; so it does when Redis fails (503).
func (e *Engine) reserve(w http.ResponseWriter, r *http.Request, txn *Txn, lang string, ev audit.Event, attempts []attempt) bool {
	ctx := r.Context()
	for i, a := range attempts {
		wait, err := e.o.Sessions.Reserve(ctx, a.key, a.policy)
		if err != nil {
			e.giveBack(ctx, attempts[:i])
			e.o.Log.ErrorContext(ctx, "throttle", "err", err)
			e.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
			return false
		}
		if wait > 0 {
			e.giveBack(ctx, attempts[:i])
			ev.Outcome = "throttled"
			ev.Details["retry_after"] = wait.Round(time.Second).String()
			e.o.Audit.Record(ctx, ev)
			w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
			e.render(w, r, txn, http.StatusTooManyRequests, fmt.Sprintf(e.o.Renderer.T(lang, "err_throttled"), e.o.Renderer.Duration(lang, wait)))
			return false
		}
	}
	return true
}

// giveBack returns attempts that were not checked (or not the citizen's fault).
func (e *Engine) giveBack(ctx context.Context, attempts []attempt) {
	for _, a := range attempts {
		if err := e.o.Sessions.Release(ctx, a.key); err != nil {
			e.o.Log.WarnContext(ctx, "throttle release", "err", err)
		}
	}
}

// succeeded clears or gives back the counters after a success.
func (e *Engine) succeeded(ctx context.Context, attempts []attempt) {
	for _, a := range attempts {
		var err error
		if a.reset {
			err = e.o.Sessions.ResetFailures(ctx, a.key)
		} else {
			err = e.o.Sessions.Release(ctx, a.key)
		}
		if err != nil {
			e.o.Log.WarnContext(ctx, "throttle reset", "err", err)
		}
	}
}

// slowDown counts an attempt on key under the slowdown policy and waits
// what the failures before it impose. It reports false only when Redis
// failed or the request ended while waiting.
func (e *Engine) slowDown(ctx context.Context, key string) bool {
	d, err := e.o.Sessions.Count(ctx, key, e.o.AccountSlowdown)
	if err != nil {
		e.o.Log.ErrorContext(ctx, "throttle", "err", err)
		return false
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		e.o.Sessions.Release(context.WithoutCancel(ctx), key)
		return false
	}
}
