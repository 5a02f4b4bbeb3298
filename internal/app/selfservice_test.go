package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

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
