package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/citizenid/citizenid/internal/outbox"
	"github.com/citizenid/citizenid/internal/store"
)

// sendTimeout bounds one attempt.
const sendTimeout = 15 * time.Second

// Run delivers due messages until ctx ends: every PollInterval it claims
// what is due, sends each message, and marks it delivered, or schedules
// its retry (RetryBase, doubling), or gives it up after MaxAttempts. Run it
// on every node; the outbox's leases keep each message to one.
func (n *Notifier) Run(ctx context.Context) { n.worker().Run(ctx) }

// worker is the outbox worker of the notifications' kinds.
func (n *Notifier) worker() *outbox.Worker {
	handler := func(s sender) outbox.Handler {
		return outbox.Handler{
			Deliver: func(ctx context.Context, m store.OutboxMessage) error {
				var msg message
				if err := json.Unmarshal(m.Payload, &msg); err != nil {
					return err
				}
				return s.send(ctx, msg)
			},
			Timeout: sendTimeout, RetryBase: n.o.RetryBase, MaxAttempts: n.o.MaxAttempts,
		}
	}
	return outbox.New(outbox.Options{
		Store:        n.o.Store,
		Handlers:     map[string]outbox.Handler{Email: handler(n.email), SMS: handler(n.sms)},
		PollInterval: n.o.PollInterval,
		Owner:        n.o.Owner,
		Observe:      n.o.Observe,
		Log:          n.o.Log,
		Now:          n.o.Now,
	})
}
