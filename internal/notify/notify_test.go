package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
	"github.com/citizenid/citizenid/internal/testenv"
	"github.com/citizenid/citizenid/templates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestTemplates(t *testing.T) {
	cat, err := parse(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range append(Languages, "fr") {
		for _, k := range Kinds {
			r, err := cat.render(lang, k, view{Name: `<b>Bình</b>`, Number: "0010******23", Code: "123456", Minutes: 10, Issuer: "https://id.example.gov.vn"})
			if err != nil {
				t.Fatalf("%s %s: %v", lang, k, err)
			}
			if r.Subject == "" || r.Text == "" || r.SMS == "" || r.HTML == "" {
				t.Errorf("%s %s: an empty part: %+v", lang, k, r)
			}
			if strings.Contains(r.HTML, "<b>Bình</b>") || (strings.Contains(r.Text, "Bình") && !strings.Contains(r.HTML, "&lt;b&gt;Bình&lt;/b&gt;")) {
				t.Errorf("%s %s: the name is not escaped in HTML: %s", lang, k, r.HTML)
			}
			isCode := strings.HasPrefix(string(k), "code_")
			if strings.Contains(r.Text, "123456") != isCode || strings.Contains(r.SMS, "123456") != isCode {
				t.Errorf("%s %s: code shown %v, want %v", lang, k, !isCode, isCode)
			}
			if len(r.SMS) > 160 {
				t.Errorf("%s %s: SMS of %d bytes", lang, k, len(r.SMS))
			}
		}
	}
	if _, err := parse(fstest.MapFS{"notify/vi.txt": {Data: []byte(`{{define "code_contact.subject"}}x{{end}}`)}}); err == nil {
		t.Error("parse with a message missing: got nil, want an error")
	}
	if _, err := parse(nil); err == nil {
		t.Error("parse without templates: got nil, want an error")
	}
}

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlstore.OpenPostgres(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func newNotifier(t *testing.T, st store.Outbox, o Options) *Notifier {
	t.Helper()
	o.Store, o.Templates, o.Issuer = st, templates.FS, "https://id.example.gov.vn"
	o.PollInterval, o.RetryBase = 10*time.Millisecond, 10*time.Millisecond
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func run(t *testing.T, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The SMS gateway gets a JSON POST with the bearer token; a 500 is
// retried, a gateway that keeps failing gives the message up.
func TestSMSGateway(t *testing.T) {
	var calls atomic.Int32
	var failAll atomic.Bool
	var mu sync.Mutex
	var got []map[string]string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var body map[string]string
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		if n := calls.Add(1); n == 1 || failAll.Load() {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
	}))
	defer gw.Close()
	st := newStore(t)
	var outcomes sync.Map
	n := newNotifier(t, st, Options{SMS: SMSOptions{URL: gw.URL, Token: "tok", Brand: "CITIZENID"}, MaxAttempts: 3,
		Observe: func(kind, outcome string) {
			v, _ := outcomes.LoadOrStore(outcome, new(atomic.Int32))
			v.(*atomic.Int32).Add(1)
		}})
	run(t, n)
	c := &store.Citizen{Name: "Bình", Number: "001090000123", Phone: "+84912345678", PhoneVerified: true}
	if err := n.Notify(context.Background(), c, "vi", PasswordChanged, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SMS", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	if g := got[0]; g["to"] != "+84912345678" || g["brand"] != "CITIZENID" || !strings.Contains(g["text"], "Mat khau") {
		t.Errorf("gateway got %v", g)
	}
	failAll.Store(true)
	if err := n.SendCode(context.Background(), Contact{SMS, "+84912345679"}, "en", CodeContact, "654321", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the give-up", func() bool { v, ok := outcomes.Load("failed"); return ok && v.(*atomic.Int32).Load() == 1 })
	counts, _ := st.CountOutbox(context.Background())
	want := map[string]int{store.OutboxDelivered: 1, store.OutboxFailed: 1}
	for _, c := range counts {
		if want[c.Status] != c.Count {
			t.Errorf("outbox %+v, want %v", c, want)
		}
	}
}

// Two workers on one database deliver each of 30 messages once, through a
// real SMTP server; a citizen without verified contacts gets nothing.
func TestTwoWorkersDeliverOnce(t *testing.T) {
	mail := testenv.StartSMTP(t)
	st := newStore(t)
	a := newNotifier(t, st, Options{Email: EmailOptions{URL: mail.URL(), From: "CitizenID <no-reply@id.example.gov.vn>"}, Owner: "node-a"})
	b := newNotifier(t, st, Options{Email: EmailOptions{URL: mail.URL(), From: "CitizenID <no-reply@id.example.gov.vn>"}, Owner: "node-b"})
	for i := range 30 {
		to := Contact{Email, "c" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "@example.vn"}
		if err := a.SendCode(context.Background(), to, "vi", CodeRegistration, "123456", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Notify(context.Background(), &store.Citizen{Email: "unverified@example.vn"}, "vi", PasswordChanged, nil); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	run(t, b)
	waitFor(t, "30 messages", func() bool { return len(mail.Messages()) >= 30 })
	time.Sleep(200 * time.Millisecond)
	msgs := mail.Messages()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.To]++
	}
	if len(msgs) != 30 || len(seen) != 30 {
		t.Errorf("got %d messages to %d addresses, want 30 to 30", len(msgs), len(seen))
	}
	m := msgs[0]
	if m.Subject != "Mã xác nhận đăng ký tài khoản" || !strings.Contains(m.Text, "123456") || !strings.Contains(m.HTML, "123456") {
		t.Errorf("message: %+v", m)
	}
}
