package testenv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP is a real SMTP server on a loopback port that keeps what it
// receives, for tests of the messages CitizenID sends citizens. It can go
// down and come back on the same port (Stop, Start).
type SMTP struct {
	t    testing.TB
	addr string

	mu   sync.Mutex
	msgs []Message
	srv  *smtp.Server
}

// Message is one received email, decoded.
type Message struct {
	From, To string
	Subject  string // RFC 2047 decoded
	Text     string // the text/plain part, decoded
	HTML     string // the text/html part, decoded
}

// StartSMTP starts a server; it stops with the test.
func StartSMTP(t testing.TB) *SMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{t: t, addr: ln.Addr().String()}
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's address as CitizenID's notifications.email.smtp.
func (s *SMTP) URL() string { return "smtp://" + s.addr }

// Stop takes the server down: connections are refused until Start.
func (s *SMTP) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Start brings a stopped server back on the same port.
func (s *SMTP) Start() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment after Stop
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

func (s *SMTP) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Messages returns what arrived so far, oldest first.
func (s *SMTP) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor returns the latest message that matches, waiting up to timeout;
// the test fails (listing what arrived) when none does.
func (s *SMTP) WaitFor(t testing.TB, match func(Message) bool, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if match(msgs[i]) {
				return msgs[i]
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range msgs {
				got = append(got, m.To+": "+m.Subject)
			}
			t.Fatalf("no matching email within %v; received: %q", timeout, got)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

type smtpSession struct {
	s        *SMTP
	from, to string
}

func (x *smtpSession) Reset()        { x.from, x.to = "", "" }
func (x *smtpSession) Logout() error { return nil }
func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = to
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	m, err := parseMessage(r)
	if err != nil {
		return err
	}
	m.From, m.To = x.from, x.to
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	return nil
}

var wordDecoder = new(mime.WordDecoder)

// parseMessage decodes a message: its subject and its text and HTML parts.
func parseMessage(r io.Reader) (Message, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return Message{}, err
	}
	var m Message
	if m.Subject, err = wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, err
	}
	err = readPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m, err
}

func readPart(m *Message, ctype, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			if err := readPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	} else if strings.EqualFold(encoding, "base64") {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		dec, err := decodeBase64(b)
		if err != nil {
			return err
		}
		body = bytes.NewReader(dec)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

func decodeBase64(b []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' {
			return -1
		}
		return r
	}, b)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	return out[:n], err
}
