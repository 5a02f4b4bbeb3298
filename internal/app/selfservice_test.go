package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/testenv"
)

// selfEnv is a server whose messages go to a real SMTP server.
type selfEnv struct {
	*env
	mail *testenv.SMTP
}

func startSelf(t *testing.T, production bool, tweak func(*config.Config)) *selfEnv {
	t.Helper()
	mail := testenv.StartSMTP(t)
	e := start(t, production, func(c *config.Config) {
		c.Notifications.Email.SMTP = mail.URL()
		c.Notifications.Email.From = "CitizenID <no-reply@citizenid.test>"
		c.Notifications.PollInterval, c.Notifications.RetryBase = 20*time.Millisecond, 100*time.Millisecond
		if tweak != nil {
			tweak(c)
		}
	})
	return &selfEnv{env: e, mail: mail}
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// codeFor waits for the latest message to addr carrying a code.
func (s *selfEnv) codeFor(t *testing.T, addr string) string {
	t.Helper()
	m := s.mail.WaitFor(t, func(m testenv.Message) bool {
		return strings.EqualFold(m.To, addr) && codeRE.MatchString(m.Text)
	}, 20*time.Second)
	return codeRE.FindStringSubmatch(m.Text)[1]
}

var verifyActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)" id="verify"`)

func verifyAction(t *testing.T, p page) string {
	t.Helper()
	m := verifyActionRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no code form on %s (%d): %.500s", p.url, p.status, p.body)
	}
	return m[1]
}

func registration(number, email string) url.Values {
	return url.Values{"number": {number}, "name": {"Lê Văn <b>Cường</b>"}, "birthdate": {"1990-05-17"},
		"email": {email}, "password": {"một câu mật khẩu đủ dài 2026"}, "password2": {"một câu mật khẩu đủ dài 2026"}}
}

func TestRegistration(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres+redis"}[production], func(t *testing.T) {
			s := startSelf(t, production, nil)
			ctx := context.Background()
			b := newBrowser(t)
			p := b.get(s.URL + "/register")
			for _, hook := range []string{`id="register"`, `autocomplete="username"`, `autocomplete="name"`, `autocomplete="bday"`,
				`autocomplete="email"`, `autocomplete="tel"`, `autocomplete="new-password"`} {
				if !strings.Contains(p.body, hook) {
					t.Errorf("registration form lacks %s", hook)
				}
			}
			// Bad input: every field's error beside it, nothing written.
			bad := registration("099090000001", "not an email")
			bad.Set("password2", "different")
			p = b.post(s.URL+"/register", bad)
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("bad registration: got %d, want 422", p.status)
			}
			for _, f := range []string{"number", "email", "password2"} {
				if !strings.Contains(p.body, `id="`+f+`-error"`) || !strings.Contains(p.body, `aria-describedby="`+f+`-error"`) {
					t.Errorf("bad registration: no message tied to %s: %.2000s", f, p.body)
				}
			}
			if _, err := s.Store.CitizenByNumber(ctx, "099090000001"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("bad registration wrote a citizen: %v", err)
			}

			// A new number: code by email, then the account exists.
			const number = "001090000123"
			p = b.post(s.URL+"/register", registration(number, "cuong@example.vn"))
			action := verifyAction(t, p)
			if _, err := s.Store.CitizenByNumber(ctx, number); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("citizen written before the code: %v", err)
			}
			code := s.codeFor(t, "cuong@example.vn")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			if p := b.post(s.URL+action, url.Values{"code": {wrong}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="code-error"`) {
				t.Errorf("wrong code: got %d", p.status)
			}
			// Guessing: five wrong codes spend the code; only a new one helps.
			g := newBrowser(t)
			gp := g.post(s.URL+"/register", registration("001090000199", "guess@example.vn"))
			gAction := verifyAction(t, gp)
			gCode := s.codeFor(t, "guess@example.vn")
			for i := range 5 {
				guess := fmt.Sprintf("%06d", i)
				if guess == gCode {
					guess = "999999"
				}
				if p := g.post(s.URL+gAction, url.Values{"code": {guess}}); p.status != http.StatusUnprocessableEntity {
					t.Fatalf("wrong code %d: got %d, want 422", i+1, p.status)
				}
			}
			if p := g.post(s.URL+gAction, url.Values{"code": {gCode}}); p.status != http.StatusUnprocessableEntity {
				t.Errorf("the right code after five wrong ones: got %d, want 422 (spent)", p.status)
			}
			if _, err := s.Store.CitizenByNumber(ctx, "001090000199"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a spent code created the account: %v", err)
			}
			// Another browser cannot use the link.
			if p := newBrowser(t).post(s.URL+action, url.Values{"code": {code}}); p.status != http.StatusForbidden {
				t.Errorf("code from another browser: got %d, want 403", p.status)
			}
			p = b.post(s.URL+action, url.Values{"code": {code}})
			if p.status != http.StatusOK {
				t.Fatalf("right code: got %d %.300s", p.status, p.body)
			}
			c, err := s.Store.CitizenByNumber(ctx, number)
			if err != nil {
				t.Fatal(err)
			}
			if !c.SelfRegistered || c.IdentityLevel != 1 || !c.EmailVerified || c.Name != "Lê Văn <b>Cường</b>" {
				t.Errorf("registered citizen: got %+v", c)
			}
			// Single use.
			if p := b.post(s.URL+action, url.Values{"code": {code}}); p.status != http.StatusNotFound {
				t.Errorf("code replayed: got %d, want 404", p.status)
			}
			if p := loginTo(t, s.env, newBrowser(t), "/account", number, "một câu mật khẩu đủ dài 2026"); isLoginForm(p) ||
				!strings.Contains(p.body, "Lê Văn &lt;b&gt;Cường&lt;/b&gt;") {
				t.Errorf("login after registration: got %d %.300s", p.status, p.body)
			}
		})
	}
}

// idRE matches what differs between two answers: the verification id.
var idRE = regexp.MustCompile(`/(register|recover)/verify/[A-Za-z0-9_-]+`)

// The answers for a number with an account and one without are the same
// bytes but the verification id; the owner is told of the attempt.
func TestNoEnumeration(t *testing.T) {
	s := startSelf(t, true, nil)
	const existing = "001090000130"
	s.addCitizen(t, existing, testPassword) // binh@example.vn, verified
	answer := func(path string, form url.Values) (page, page) {
		b := newBrowser(t)
		b.stop = func(*url.URL) bool { return true }
		first := b.post(s.URL+path, form)
		b.stop = nil
		if first.status != http.StatusSeeOther {
			t.Fatalf("%s: got %d %.300s, want 303", path, first.status, first.body)
		}
		return first, b.get(s.URL + first.header.Get("Location"))
	}
	strip := func(s string) string { return idRE.ReplaceAllString(s, "/$1/verify/ID") }
	for _, tc := range []struct {
		path          string
		existing, new url.Values
	}{
		{"/register", registration(existing, "x@example.vn"), registration("001090000124", "x@example.vn")},
		{"/recover", url.Values{"number": {existing}}, url.Values{"number": {"001090000125"}}},
	} {
		e1, e2 := answer(tc.path, tc.existing)
		n1, n2 := answer(tc.path, tc.new)
		if e1.status != n1.status || strip(e1.header.Get("Location")) != strip(n1.header.Get("Location")) || strip(e1.body) != strip(n1.body) {
			t.Errorf("%s: first answers differ: %d %q / %d %q", tc.path, e1.status, e1.header.Get("Location"), n1.status, n1.header.Get("Location"))
		}
		if e2.status != n2.status || strip(e2.body) != strip(n2.body) {
			t.Errorf("%s: code pages differ:\n%s\n----\n%s", tc.path, e2.body, n2.body)
		}
	}
	s.mail.WaitFor(t, func(m testenv.Message) bool {
		return m.To == "binh@example.vn" && !codeRE.MatchString(m.Text) && strings.Contains(m.Text, "/recover")
	}, 20*time.Second)
}

// subjectTo waits for a message to addr whose subject contains want.
func (s *selfEnv) subjectTo(t *testing.T, addr, want string) testenv.Message {
	t.Helper()
	return s.mail.WaitFor(t, func(m testenv.Message) bool { return m.To == addr && strings.Contains(m.Subject, want) }, 20*time.Second)
}

// A citizen with an authenticator app recovers with the emailed code and
// a recovery code; other sessions end, the old password stops working, and
// the citizen is told.
func TestRecoveryAsksTheSecondFactor(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres+redis"}[production], func(t *testing.T) {
			s := startSelf(t, production, nil)
			ctx := context.Background()
			const number, email = "001090000140", "binh@example.vn"
			s.addCitizen(t, number, testPassword)
			c, err := s.Store.CitizenByNumber(ctx, number)
			if err != nil {
				t.Fatal(err)
			}
			en, err := s.TOTP.BeginEnrolment(ctx, c.ID, number)
			if err != nil {
				t.Fatal(err)
			}
			code, err := totp.Code(en.Secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			recovery, err := s.TOTP.ConfirmEnrolment(ctx, c.ID, code)
			if err != nil {
				t.Fatal(err)
			}
			other := newBrowser(t)
			if p := loginTo(t, s.env, other, "/account", number, testPassword); isLoginForm(p) {
				t.Fatal("cannot log in before the recovery")
			}

			b := newBrowser(t)
			if p := b.get(s.URL + "/recover"); !strings.Contains(p.body, `id="recover"`) {
				t.Fatalf("recovery form: %.300s", p.body)
			}
			p := b.post(s.URL+"/recover", url.Values{"number": {number}})
			action := verifyAction(t, p)
			p = b.post(s.URL+action, url.Values{"code": {s.codeFor(t, email)}})
			if !strings.Contains(p.body, `id="recover-second"`) || !strings.Contains(p.body, `autocomplete="one-time-code"`) {
				t.Fatalf("after the emailed code: got %d %.500s, want the second factor asked", p.status, p.body)
			}
			// A stolen mailbox alone sets no password: the step wants the
			// second factor, whatever is posted.
			if p := b.post(p.url.String(), url.Values{"password": {"một câu mật khẩu khác 2027"}, "password2": {"một câu mật khẩu khác 2027"}}); strings.Contains(p.body, `id="recover-password"`) || p.status == http.StatusOK && !strings.Contains(p.body, `id="recover-second"`) {
				t.Errorf("a password posted before the second factor: got %d", p.status)
			}
			if p := b.post(p.url.String(), url.Values{"second": {wrongCode(t, en.Secret, time.Now())}}); p.status != http.StatusUnprocessableEntity {
				t.Errorf("wrong second factor: got %d, want 422", p.status)
			}
			p = b.post(p.url.String(), url.Values{"second": {recovery[0]}})
			if !strings.Contains(p.body, `id="recover-password"`) {
				t.Fatalf("after the recovery code: got %d %.500s, want the new-password form", p.status, p.body)
			}
			const next = "một câu mật khẩu khác hẳn 2027"
			if p := b.post(p.url.String(), url.Values{"password": {"12345678"}, "password2": {"12345678"}}); p.status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.body, `id="password-error"`) {
				t.Errorf("a common new password: got %d", p.status)
			}
			p = b.post(p.url.String(), url.Values{"password": {next}, "password2": {next}})
			if p.status != http.StatusOK {
				t.Fatalf("new password: got %d %.300s", p.status, p.body)
			}
			if p := other.get(s.URL + "/account"); !isLoginForm(p) {
				t.Error("another session survived the recovery")
			}
			if p := loginTo(t, s.env, newBrowser(t), "/account", number, testPassword); !isLoginForm(p) {
				t.Error("the old password still logs in")
			}
			if p := loginTo(t, s.env, newBrowser(t), "/account", number, next); isLoginForm(p) {
				t.Error("the new password does not log in")
			}
			s.subjectTo(t, email, "đặt lại")      // password reset
			s.subjectTo(t, email, "mã khôi phục") // recovery code used
		})
	}
}

// Every security change in the audit log reaches the citizen's verified
// contacts, whatever made it.
func TestSecurityNotices(t *testing.T) {
	s := startSelf(t, false, nil)
	const number, email = "001090000150", "binh@example.vn"
	s.addCitizen(t, number, testPassword)
	c, err := s.Store.CitizenByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	for action, subject := range map[string]string{
		"password.change": "đã được đổi", "password.reset": "đã được đặt lại", "totp.enrol": "Đã bật ứng dụng",
		"totp.remove": "Đã tắt ứng dụng", "webauthn.enrol": "Đã thêm passkey", "webauthn.remove": "Đã xoá passkey",
		"certificate.bind": "chứng thư số", "citizen.disable": "bị khoá", "citizen.enable": "mở lại",
	} {
		s.Audit.Record(context.Background(), audit.Event{Actor: "test", Action: action, Target: "citizen:" + c.ID, Outcome: "success"})
		m := s.subjectTo(t, email, subject)
		if strings.Contains(m.Text, number) || codeRE.MatchString(m.Text) {
			t.Errorf("%s: the notice carries the number or a code: %q", action, m.Text)
		}
	}
	// A failure tells nobody.
	before := len(s.mail.Messages())
	s.Audit.Record(context.Background(), audit.Event{Actor: "test", Action: "password.change", Target: "citizen:" + c.ID, Outcome: "failure"})
	time.Sleep(300 * time.Millisecond)
	if n := len(s.mail.Messages()); n != before {
		t.Errorf("a failed change sent %d messages", n-before)
	}
}

// The mail server is down while a citizen registers: the code waits in
// the outbox, arrives once the server is back, and the registration
// completes; a new code can be asked for meanwhile.
func TestRegistrationSurvivesMailOutage(t *testing.T) {
	clk := newClock()
	mail := testenv.StartSMTP(t)
	e := startWith(t, true, func(c *config.Config) {
		c.Notifications.Email.SMTP = mail.URL()
		c.Notifications.PollInterval, c.Notifications.RetryBase = 20*time.Millisecond, 50*time.Millisecond
	}, app.BuildOptions{Now: clk.Now})
	s := &selfEnv{env: e, mail: mail}
	mail.Stop()
	b := newBrowser(t)
	p := b.post(s.URL+"/register", registration("001090000160", "outage@example.vn"))
	action := verifyAction(t, p)
	time.Sleep(300 * time.Millisecond) // attempts fail meanwhile
	if n := len(mail.Messages()); n != 0 {
		t.Fatalf("got %d messages from a stopped server", n)
	}
	// Later, a new code (the first is kept too).
	clk.Advance(2 * time.Minute)
	p = b.post(s.URL+action+"/resend", nil)
	if !strings.Contains(p.url.RawQuery, "sent=1") {
		t.Fatalf("resend: got %d %s", p.status, p.url)
	}
	mail.Start()
	// Both codes arrive, in whatever order the retries deliver them; the
	// new one works, the one it replaced does not.
	var codes []string
	for deadline := time.Now().Add(20 * time.Second); len(codes) < 2; time.Sleep(25 * time.Millisecond) {
		clk.Advance(time.Second) // the worker's backoff runs on the test's clock
		if time.Now().After(deadline) {
			t.Fatalf("after the outage: %d of 2 codes arrived", len(codes))
		}
		codes = codes[:0]
		for _, m := range mail.Messages() {
			if m.To == "outage@example.vn" {
				codes = append(codes, codeRE.FindString(m.Text))
			}
		}
	}
	ok := 0
	for _, code := range codes {
		if p := b.post(s.URL+action, url.Values{"code": {code}}); p.status == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("codes after the outage: %d of %v worked, want the new one only", ok, codes)
	}
	if _, err := s.Store.CitizenByNumber(context.Background(), "001090000160"); err != nil {
		t.Errorf("no account after the outage: %v", err)
	}
	counts, err := s.Store.CountOutbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Status != store.OutboxDelivered || c.Count != 2 {
			t.Errorf("outbox: %+v, want both codes delivered", c)
		}
	}
}

// Contacts on /account/contacts: a phone verified by SMS, an email changed
// (the old address is told), the last verified contact kept.
func TestContacts(t *testing.T) {
	var mu sync.Mutex
	var sms []map[string]string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		sms = append(sms, m)
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)
	s := startSelf(t, false, func(c *config.Config) { c.Notifications.SMS.URL = gw.URL })
	const number = "001090000170"
	s.addCitizen(t, number, testPassword) // binh@example.vn, verified
	b := newBrowser(t)
	loginTo(t, s.env, b, "/account/contacts", number, testPassword)
	if p := b.post(s.URL+"/account/contacts/phone", url.Values{"phone": {"12"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="phone-error"`) {
		t.Fatalf("bad phone: got %d", p.status)
	}
	p := b.post(s.URL+"/account/contacts/phone", url.Values{"phone": {"0912 345 678"}})
	action := verifyAction(t, p)
	var code string
	for deadline := time.Now().Add(20 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		for _, m := range sms {
			if m["to"] == "+84912345678" {
				code = codeRE.FindString(m["text"])
			}
		}
		mu.Unlock()
	}
	if code == "" {
		t.Fatal("no code by SMS")
	}
	if p := b.post(s.URL+action, url.Values{"code": {code}}); !strings.Contains(p.url.RawQuery, "done=saved") {
		t.Fatalf("phone code: landed on %s", p.url)
	}
	s.subjectTo(t, "binh@example.vn", "Đã thêm liên hệ")
	// Change the email: a code to the new one, the old one told.
	p = b.post(s.URL+"/account/contacts/email", url.Values{"email": {"binh.moi@example.vn"}})
	action = verifyAction(t, p)
	b.post(s.URL+action, url.Values{"code": {s.codeFor(t, "binh.moi@example.vn")}})
	s.subjectTo(t, "binh@example.vn", "Liên hệ của bạn đã thay đổi")
	c, err := s.Store.CitizenByNumber(context.Background(), number)
	if err != nil || c.Email != "binh.moi@example.vn" || !c.EmailVerified || c.Phone != "+84912345678" || !c.PhoneVerified {
		t.Fatalf("contacts: got %+v, %v", c, err)
	}
	// Remove the phone; then the email is the last and stays.
	if p := b.post(s.URL+"/account/contacts/remove/phone", nil); !strings.Contains(p.url.RawQuery, "done=removed") {
		t.Errorf("remove phone: landed on %s", p.url)
	}
	if p := b.post(s.URL+"/account/contacts/remove/email", nil); p.status != http.StatusConflict {
		t.Errorf("removing the last verified contact: got %d, want 409", p.status)
	}
	if c, _ := s.Store.CitizenByNumber(context.Background(), number); c.Email == "" || c.Phone != "" {
		t.Errorf("after removals: %+v", c)
	}
}

// Registrations of one number are throttled; registration can be off.
func TestRegistrationThrottleAndSwitch(t *testing.T) {
	s := startSelf(t, false, nil)
	var last page
	for range 6 {
		last = newBrowser(t).post(s.URL+"/register", registration("001090000180", "x@example.vn"))
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("sixth registration of one number: got %d, want 429 with Retry-After", last.status)
	}
	off := startSelf(t, false, func(c *config.Config) { c.Registration.Enabled = false })
	if p := newBrowser(t).get(off.URL + "/register"); p.status != http.StatusNotFound && p.status != http.StatusMethodNotAllowed {
		t.Errorf("registration off: got %d", p.status)
	}
}
