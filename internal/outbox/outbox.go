// Package outbox delivers what the store's outbox holds: it claims due
// messages of the kinds it has a handler for, hands each to its handler,
// and marks it delivered, schedules a retry (doubling waits) or gives it
// up. Every node runs a worker; the outbox's leases keep each message to
// one. It owns the delivery loop and its retry rules, not what a message
// means: notifications (internal/notify) and back-channel logouts
// (internal/oidc, internal/saml) are handlers.
package outbox

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Handler delivers one kind of message.
type Handler struct {
	// Deliver makes one attempt; an error means try again later.
	Deliver func(ctx context.Context, m store.OutboxMessage) error
	// Timeout bounds one attempt.
	Timeout time.Duration
	// RetryBase is the wait after the first failed attempt; it doubles
	// after each, up to MaxWait when set.
	RetryBase time.Duration
	MaxWait   time.Duration
	// A message is given up after MaxAttempts attempts, or when its next
	// attempt would start more than GiveUpAfter after it was written (when
	// set).
	MaxAttempts int
	GiveUpAfter time.Duration
}

// Rules are the delivery rules of a kind delivered over HTTP to a
// portal's server (back-channel logouts): each attempt bounded by Timeout,
// waits doubling from RetryBase up to MaxWait, given up GiveUpAfter after
// the message was written.
type Rules struct {
	Timeout, RetryBase, MaxWait, GiveUpAfter time.Duration
}

// Handler is the handler delivering with deliver under the rules.
func (r Rules) Handler(deliver func(ctx context.Context, m store.OutboxMessage) error) Handler {
	return Handler{Deliver: deliver, Timeout: r.Timeout, RetryBase: r.RetryBase, MaxWait: r.MaxWait,
		MaxAttempts: 1000, // bounded by GiveUpAfter
		GiveUpAfter: r.GiveUpAfter}
}

// NoRedirects returns a copy of c (a plain client when nil) that never
// follows a redirect: a portal's endpoint answers itself or fails.
func NoRedirects(c *http.Client) *http.Client {
	out := &http.Client{}
	if c != nil {
		cp := *c
		out = &cp
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return out
}

// Options configures a Worker.
type Options struct {
	Store    store.Outbox
	Handlers map[string]Handler // by kind
	// PollInterval is how often the worker looks for due messages.
	PollInterval time.Duration
	// Owner names this worker in the leases it takes (a node name).
	Owner string
	// Observe is told of each outcome ("delivered", "retry", "failed") by
	// kind, for metrics; may be nil.
	Observe func(kind, outcome string)
	// Failed is told of a message given up, after it is marked; may be nil.
	Failed func(ctx context.Context, m store.OutboxMessage, err error)
	Log    *slog.Logger
	Now    func() time.Time
}

// Worker runs the delivery loop.
type Worker struct {
	o     Options
	kinds []string
	lease time.Duration
}

const (
	// batch is how many due messages a worker claims at once.
	batch = 20
	// keepDone is how long delivered and failed messages stay, for
	// operators; their payloads are blanked at once.
	keepDone = 7 * 24 * time.Hour
)

// New returns a worker for the handlers' kinds.
func New(o Options) *Worker {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	w := &Worker{o: o, lease: time.Minute}
	for k, h := range o.Handlers {
		w.kinds = append(w.kinds, k)
		// A lease outlives any attempt, so a live worker never loses a
		// message it is delivering.
		w.lease = max(w.lease, 2*h.Timeout)
	}
	slices.Sort(w.kinds)
	return w
}

// Run delivers due messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.o.PollInterval)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		for w.DeliverDue(ctx) == batch && ctx.Err() == nil {
			// A full batch: more may be due.
		}
		if now := w.o.Now(); now.Sub(lastPurge) > time.Hour {
			if _, err := w.o.Store.PurgeOutbox(ctx, now.Add(-keepDone)); err != nil && ctx.Err() == nil {
				w.o.Log.WarnContext(ctx, "purge outbox", "err", err)
			}
			lastPurge = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt at each due message of a batch and returns
// how many it claimed.
func (w *Worker) DeliverDue(ctx context.Context) int {
	if len(w.kinds) == 0 {
		return 0
	}
	msgs, err := w.o.Store.ClaimOutbox(ctx, w.o.Owner, w.kinds, w.o.Now(), w.lease, batch)
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.ErrorContext(ctx, "claim outbox", "err", err)
		}
		return 0
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			return 0 // the lease runs out; another worker delivers it
		}
		w.deliver(ctx, m)
	}
	return len(msgs)
}

func (w *Worker) deliver(ctx context.Context, m store.OutboxMessage) {
	h := w.o.Handlers[m.Kind]
	actx, cancel := context.WithTimeout(ctx, h.Timeout)
	err := h.Deliver(actx, m)
	cancel()
	now := w.o.Now()
	outcome := "delivered"
	wait := h.RetryBase << min(m.Attempts-1, 16)
	if h.MaxWait > 0 {
		wait = min(wait, h.MaxWait)
	}
	giveUp := m.Attempts >= h.MaxAttempts || (h.GiveUpAfter > 0 && now.Add(wait).Sub(m.CreatedAt) > h.GiveUpAfter)
	var merr error
	switch {
	case err == nil:
		merr = w.o.Store.DeliveredOutbox(ctx, m.ID, w.o.Owner, now)
	case giveUp:
		outcome = "failed"
		w.o.Log.ErrorContext(ctx, "outbox message given up", "kind", m.Kind, "target", m.Target, "attempts", m.Attempts, "err", err)
		merr = w.o.Store.RetryOutbox(ctx, m.ID, w.o.Owner, short(err), time.Time{}, now)
		if w.o.Failed != nil {
			w.o.Failed(ctx, m, err)
		}
	default:
		outcome = "retry"
		w.o.Log.WarnContext(ctx, "outbox message not delivered, will retry", "kind", m.Kind, "target", m.Target,
			"attempts", m.Attempts, "retry_in", wait.String(), "err", err)
		merr = w.o.Store.RetryOutbox(ctx, m.ID, w.o.Owner, short(err), now.Add(wait), now)
	}
	if merr != nil && ctx.Err() == nil {
		w.o.Log.ErrorContext(ctx, "mark outbox message", "outcome", outcome, "err", merr)
	}
	if w.o.Observe != nil {
		w.o.Observe(m.Kind, outcome)
	}
}

// short is an error for the outbox row: bounded.
func short(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
