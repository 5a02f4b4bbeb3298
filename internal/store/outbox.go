package store

import (
	"context"
	"time"
)

// Outbox message states.
const (
	OutboxPending   = "pending"   // waiting for its next attempt (or leased)
	OutboxDelivered = "delivered" // done
	OutboxFailed    = "failed"    // given up after the last attempt
)

// OutboxMessage is a message to deliver: an email, an SMS, later a
// back-channel logout. The store keeps it until it is delivered or given
// up; what Payload means is the Kind's business.
type OutboxMessage struct {
	ID            string
	Kind          string // "email", "sms", "oidc_logout", ...
	Target        string // whom it is for when a portal (client ID, SP entity ID); "" otherwise
	Payload       []byte
	CreatedAt     time.Time // filled from the store's clock when zero
	NextAttemptAt time.Time // due from then; CreatedAt when zero
	Attempts      int       // claims so far (each claim is an attempt)
	Status        string    // Outbox*; set by the store
	LastError     string    // of the last failed attempt; no personal data
	DoneAt        time.Time // when delivered or failed
}

// OutboxCount is how many messages of a kind are in a state.
type OutboxCount struct {
	Kind, Status string
	Count        int
}

// Outbox stores messages to deliver. Delivery is at least once: a worker
// that claims a message and dies before marking it lets its lease run out,
// and another worker claims it again.
type Outbox interface {
	// EnqueueOutbox inserts the messages (ID, Kind and Payload set) as
	// pending, in one transaction: all or none.
	EnqueueOutbox(ctx context.Context, msgs []OutboxMessage) error
	// ClaimOutbox leases up to limit pending messages of the kinds due at
	// now (next attempt not after now, no lease or an expired one) to
	// owner until now+lease, counts the attempt, and returns them oldest
	// due first. Of concurrent claimers each message goes to one.
	ClaimOutbox(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// ListOutbox returns the latest limit messages of kind for target,
	// newest first (payloads included while pending).
	ListOutbox(ctx context.Context, kind, target string, limit int) ([]OutboxMessage, error)
	// DeliveredOutbox marks a message owner holds delivered at now and
	// blanks its payload (a code is not kept once sent).
	// ErrNotFound when owner does not hold it (its lease was taken over).
	DeliveredOutbox(ctx context.Context, id, owner string, now time.Time) error
	// RetryOutbox gives back a message owner holds after a failed attempt:
	// pending again from next, with the error; failed (given up) at now,
	// its payload blanked, when next is zero. ErrNotFound when owner does
	// not hold it.
	RetryOutbox(ctx context.Context, id, owner, lastErr string, next, now time.Time) error
	// CountOutbox counts messages by kind and state, for operators.
	CountOutbox(ctx context.Context) ([]OutboxCount, error)
	// PurgeOutbox deletes delivered and failed messages done before t.
	PurgeOutbox(ctx context.Context, before time.Time) (int64, error)
}
