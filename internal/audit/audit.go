// Package audit writes the append-only, hash-chained audit log (the chain
// itself is kept by the store, see store.AuditHash). It owns what an event
// says and that personal data never enters it in clear: citizen numbers are
// masked. It does not decide what to audit; callers do.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Logger appends audit events.
type Logger struct {
	st        store.Audit
	log       *slog.Logger
	now       func() time.Time
	observers []func(context.Context, Event)
	spool     *spool // spool.go; nil: a refused event is an error only
}

// Observe calls fn after every event written, in the writer's goroutine
// (metrics count logins this way; security changes notify the citizen).
// Call it before serving.
func (l *Logger) Observe(fn func(ctx context.Context, e Event)) {
	l.observers = append(l.observers, fn)
}

// New returns a Logger writing to st. Failures to write are logged at error
// level with the action, never silently dropped.
func New(st store.Audit, log *slog.Logger, now func() time.Time) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{st: st, log: log, now: now}
}

// Event is what a caller records.
type Event struct {
	Actor    string
	Action   string
	Target   string
	Outcome  string
	ClientIP string
	Details  map[string]string
}

// Record appends e and returns the error, if any, after logging it.
func (l *Logger) Record(ctx context.Context, e Event) error {
	ev := &store.AuditEvent{
		Time:     l.now().UTC(),
		Actor:    e.Actor,
		Action:   e.Action,
		Target:   e.Target,
		Outcome:  e.Outcome,
		ClientIP: e.ClientIP,
		Details:  e.Details,
	}
	// The audit write must not be cut short by a client that went away.
	ctx = context.WithoutCancel(ctx)
	if err := l.st.AppendAudit(ctx, ev); err != nil {
		if l.spool == nil {
			l.log.ErrorContext(ctx, "audit write failed", "action", e.Action, "outcome", e.Outcome, "err", err)
			return err
		}
		if serr := l.spool.add(ev); serr != nil {
			l.log.ErrorContext(ctx, "audit write failed, and so did the spool", "action", e.Action, "outcome", e.Outcome,
				"err", err, "spool_err", serr)
			return err
		}
		l.log.WarnContext(ctx, "audit event spooled: the store refused it", "action", e.Action, "err", err)
	}
	for _, fn := range l.observers {
		fn(ctx, e)
	}
	return nil
}

// MaskNumber hides all but the first four and last two digits of a citizen
// number, so audit entries and logs can be correlated without revealing it.
func MaskNumber(n string) string {
	if len(n) < 8 {
		return "****"
	}
	b := []byte(n)
	for i := 4; i < len(b)-2; i++ {
		b[i] = '*'
	}
	return string(b)
}
