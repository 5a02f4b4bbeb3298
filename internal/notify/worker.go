package notify

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

const (
	// lease is how long a claimed message is this worker's: longer than
	// any send's deadline, so a live worker never loses one it is sending.
	lease = time.Minute
	// batch is how many due messages a worker claims at once.
	batch = 20
	// sendTimeout bounds one attempt.
	sendTimeout = 15 * time.Second
	// keepDone is how long delivered and failed messages stay, for
	// operators; their texts (codes too) are blanked at once.
	keepDone = 7 * 24 * time.Hour
)

// Run delivers due messages until ctx ends: every PollInterval it claims
// what is due, sends each message, and marks it delivered, or schedules
// its retry (RetryBase, doubling), or gives it up after MaxAttempts. Run it
// on every node; the outbox's leases keep each message to one.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.o.PollInterval)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		for n.deliverDue(ctx) == batch && ctx.Err() == nil {
			// A full batch: more may be due.
		}
		if now := n.o.Now(); now.Sub(lastPurge) > time.Hour {
			if _, err := n.o.Store.PurgeOutbox(ctx, now.Add(-keepDone)); err != nil && ctx.Err() == nil {
				n.o.Log.WarnContext(ctx, "purge outbox", "err", err)
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

// deliverDue sends one batch and returns how many it claimed.
func (n *Notifier) deliverDue(ctx context.Context) int {
	msgs, err := n.o.Store.ClaimOutbox(ctx, n.o.Owner, n.o.Now(), lease, batch)
	if err != nil {
		if ctx.Err() == nil {
			n.o.Log.ErrorContext(ctx, "claim outbox", "err", err)
		}
		return 0
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			return 0 // the lease runs out; another worker sends it
		}
		n.deliver(ctx, m)
	}
	return len(msgs)
}

func (n *Notifier) deliver(ctx context.Context, m store.OutboxMessage) {
	var msg message
	var err error
	var s sender
	switch m.Kind {
	case Email:
		s = n.email
	case SMS:
		s = n.sms
	}
	if err = json.Unmarshal(m.Payload, &msg); err == nil && s == nil {
		err = errors.New("unknown kind " + m.Kind)
	}
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err = s.send(sctx, msg)
		cancel()
	}
	now := n.o.Now()
	outcome := "delivered"
	switch {
	case err == nil:
		err = n.o.Store.DeliveredOutbox(ctx, m.ID, n.o.Owner, now)
	case m.Attempts >= n.o.MaxAttempts:
		outcome = "failed"
		n.o.Log.ErrorContext(ctx, "message given up", "kind", m.Kind, "message", msg.Kind, "attempts", m.Attempts, "err", err)
		err = n.o.Store.RetryOutbox(ctx, m.ID, n.o.Owner, short(err), time.Time{}, now)
	default:
		outcome = "retry"
		wait := n.o.RetryBase << min(m.Attempts-1, 16)
		n.o.Log.WarnContext(ctx, "message not delivered, will retry", "kind", m.Kind, "message", msg.Kind,
			"attempts", m.Attempts, "retry_in", wait.String(), "err", err)
		err = n.o.Store.RetryOutbox(ctx, m.ID, n.o.Owner, short(err), now.Add(wait), now)
	}
	if err != nil && ctx.Err() == nil {
		n.o.Log.ErrorContext(ctx, "mark outbox message", "outcome", outcome, "err", err)
	}
	if n.o.Observe != nil {
		n.o.Observe(m.Kind, outcome)
	}
}

// short is an error for the outbox row: its first line, bounded.
func short(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
