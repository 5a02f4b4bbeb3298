package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/ui"
)

// Contact kinds, which are also the outbox kinds of their messages.
const (
	Email = "email"
	SMS   = "sms"
)

// Contact is an address to send to.
type Contact struct {
	Kind    string `json:"kind"` // Email or SMS
	Address string `json:"address"`
}

// Options configures a Notifier.
type Options struct {
	Store store.Outbox
	// Templates holds notify/<lang>.txt and notify/<lang>.html.
	Templates fs.FS
	// Issuer is CitizenID's address, for the pages a notice names.
	Issuer string
	Email  EmailOptions
	SMS    SMSOptions
	// PollInterval is how often the worker looks for due messages.
	PollInterval time.Duration
	// RetryBase is the wait after the first failed attempt; it doubles
	// after each. MaxAttempts is when a message is given up.
	RetryBase   time.Duration
	MaxAttempts int
	// Owner names this worker in the leases it takes (a node name).
	Owner string
	// Observe is told of each delivery outcome ("delivered", "retry",
	// "failed") by kind, for metrics; may be nil.
	Observe func(kind, outcome string)
	Log     *slog.Logger
	Now     func() time.Time
}

// Notifier queues messages and, in Run, delivers them.
type Notifier struct {
	o     Options
	cat   *catalogue
	email sender
	sms   sender
}

// New parses the messages (a missing one is an error) and returns a
// Notifier. Without an SMTP URL (an SMS gateway URL) it logs emails
// (SMS) instead of sending them: dev mode.
func New(o Options) (*Notifier, error) {
	cat, err := parse(o.Templates)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Owner == "" {
		o.Owner = session.RandomToken(8)
	}
	n := &Notifier{o: o, cat: cat, email: devSender{o.Log, Email}, sms: devSender{o.Log, SMS}}
	if o.Email.URL != "" {
		if n.email, err = newSMTPSender(o.Email); err != nil {
			return nil, err
		}
	}
	if o.SMS.URL != "" {
		n.sms = newSMSSender(o.SMS)
	}
	return n, nil
}

// message is an outbox payload: a rendered message and where it goes.
type message struct {
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
	Kind    Kind   `json:"message"`
}

// SendCode queues a code to an address (being verified).
func (n *Notifier) SendCode(ctx context.Context, to Contact, lang string, kind Kind, code string, validity time.Duration) error {
	return n.enqueue(ctx, []Contact{to}, lang, kind, view{Code: code, Minutes: minutes(validity)})
}

// Notify queues a notice to each verified contact of c; none is nothing.
func (n *Notifier) Notify(ctx context.Context, c *store.Citizen, lang string, kind Kind, data map[string]string) error {
	var to []Contact
	if c.EmailVerified && c.Email != "" {
		to = append(to, Contact{Email, c.Email})
	}
	if c.PhoneVerified && c.Phone != "" {
		to = append(to, Contact{SMS, c.Phone})
	}
	if len(to) == 0 {
		n.o.Log.DebugContext(ctx, "notice to nobody: no verified contact", "kind", kind)
		return nil
	}
	return n.enqueue(ctx, to, lang, kind, view{Name: c.Name, Number: audit.MaskNumber(c.Number), Data: data})
}

// NotifyAddresses queues a notice to these addresses.
func (n *Notifier) NotifyAddresses(ctx context.Context, to []Contact, lang string, kind Kind, data map[string]string) error {
	if len(to) == 0 {
		return nil
	}
	return n.enqueue(ctx, to, lang, kind, view{Number: data["number"], Data: data})
}

func (n *Notifier) enqueue(ctx context.Context, to []Contact, lang string, kind Kind, v view) error {
	v.Issuer, v.Time = n.o.Issuer, ui.Clock(n.o.Now())
	r, err := n.cat.render(lang, kind, v)
	if err != nil {
		return fmt.Errorf("render %s: %w", kind, err)
	}
	msgs := make([]store.OutboxMessage, 0, len(to))
	for _, c := range to {
		m := message{To: c.Address, Kind: kind, Text: r.Text}
		if c.Kind == Email {
			m.Subject, m.HTML = r.Subject, r.HTML
		} else {
			m.Text = r.SMS
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		msgs = append(msgs, store.OutboxMessage{ID: session.RandomToken(16), Kind: c.Kind, Payload: b})
	}
	return n.o.Store.EnqueueOutbox(ctx, msgs)
}
