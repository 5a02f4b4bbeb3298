package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// sender delivers one message.
type sender interface {
	send(ctx context.Context, m message) error
}

// devSender logs messages instead of sending them: the embedded default
// has no mail server, and a developer reads the codes in the log.
type devSender struct {
	log  *slog.Logger
	kind string
}

func (d devSender) send(ctx context.Context, m message) error {
	d.log.WarnContext(ctx, "dev mode: message not sent", "channel", d.kind, "to", m.To, "message", m.Kind,
		"subject", m.Subject, "text", m.Text)
	return nil
}

// EmailOptions configures the SMTP server.
type EmailOptions struct {
	// URL is smtp://[user:password@]host:port (STARTTLS when the server
	// offers it) or smtps://… (TLS from the start); "" logs messages.
	URL  string
	From string
}

type smtpSender struct {
	host, from string
	opts       []mail.Option
}

func newSMTPSender(o EmailOptions) (*smtpSender, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, fmt.Errorf("notifications.email.smtp: want smtp://host:port or smtps://host:port")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, fmt.Errorf("notifications.email.smtp: a port is required")
	}
	if o.From == "" {
		return nil, errors.New("notifications.email.from is required with an SMTP server")
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(10 * time.Second), mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if u.Scheme == "smtps" {
		opts = append(opts, mail.WithSSL())
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	return &smtpSender{host: u.Hostname(), from: o.From, opts: opts}, nil
}

func (s *smtpSender) send(ctx context.Context, m message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// SMSOptions configures the SMS gateway: a JSON POST with a bearer token,
// the shape of Vietnamese brand-name SMS gateways.
type SMSOptions struct {
	URL   string // "" logs messages
	Token string
	Brand string // the brand name the gateway shows as sender
}

type smsSender struct {
	o SMSOptions
	c *http.Client
}

func newSMSSender(o SMSOptions) *smsSender {
	return &smsSender{o: o, c: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *smsSender) send(ctx context.Context, m message) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "text": m.Text, "brand": s.o.Brand})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.o.Token)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms gateway answered %d", resp.StatusCode)
	}
	return nil
}
