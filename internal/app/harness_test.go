package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/testenv"
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs protocol errors through the default logger; the
	// tests provoke many on purpose.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	testenv.Main(m)
}

// env is one running CitizenID for a test.
type env struct {
	*app.Instance
	URL string
}

// backends runs fn on the embedded default and on PostgreSQL + Redis.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("embedded", func(t *testing.T) { fn(t, start(t, false, nil)) })
	t.Run("postgres", func(t *testing.T) { fn(t, start(t, true, nil)) })
}

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testLog passes the server's log lines to t.Log, so that a failing test
// shows what the server reported (a store error behind an error page);
// lines written once t has ended, by goroutines still stopping, are
// dropped.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func newTestLog(t testing.TB) *testLog {
	l := &testLog{t: t}
	// Registered before the server's own clean-up, so it runs after it.
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.done = true
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log("server: " + strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// start builds a server the way `citizenid serve` does, on a loopback port.
func start(t testing.TB, production bool, tweak func(*config.Config)) *env {
	return startWith(t, production, tweak, app.BuildOptions{})
}

func startWith(t testing.TB, production bool, tweak func(*config.Config), bo app.BuildOptions) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.Issuer = issuer
	cfg.Server.Addr = ln.Addr().String()
	cfg.Password.MemoryKiB, cfg.Password.Time = 8192, 1 // real argon2id, cheaper for tests
	cfg.Log.Level = "error"
	// Tests change clients behind the server's back, through the store,
	// and expect the change at once (TestClientCacheAcrossNodes sets it).
	cfg.Tokens.ClientCacheRefresh = 0
	if production {
		cfg.Database.URL = testenv.PostgresURL(t)
		cfg.Redis.URL = testenv.RedisURL(t)
		cfg.Dev = true // http issuer on loopback, generated master key
	}
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := server.NewLogger(newTestLog(t), "text", "warn")
	in, err := app.Build(context.Background(), cfg, log, bo)
	if err != nil {
		t.Fatal(err)
	}
	if production {
		in.Redis.Client.FlushDB(context.Background())
	}
	srv := httptest.NewUnstartedServer(in.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); in.Close() })
	return &env{Instance: in, URL: issuer}
}

const (
	testNumber   = "079201000123"
	testPassword = "mật khẩu rất dài 2024"
)

func (e *env) addCitizen(t testing.TB, number, pw string) {
	t.Helper()
	_, err := citizens.Create(context.Background(), e.Store, e.Hasher, citizens.NewCitizen{
		Number: number, Name: "Trần Thị Bình", Birthdate: "1990-05-17", Email: "binh@example.vn", Password: pw,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) addClient(t testing.TB, spec clients.Spec) string {
	t.Helper()
	_, secret, err := clients.Create(context.Background(), e.Store, spec)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// browser is a citizen's browser: cookies, follows redirects unless stop
// says otherwise.
//
// Like a citizen who always agrees, it approves every consent page it
// meets (see approveConsent) unless manualConsent is set: tests of other
// features go through the page without dwelling on it.
type browser struct {
	t    testing.TB
	c    *http.Client
	stop func(*url.URL) bool
	// manualConsent leaves consent pages to the test.
	manualConsent bool
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if b.stop != nil && b.stop(req.URL) {
			return http.ErrUseLastResponse
		}
		if len(via) > 15 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	pg := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
	if !b.manualConsent && isConsentPage(pg) {
		return b.approveConsent(pg)
	}
	return pg
}

// isConsentPage reports whether p is the consent step of a login.
func isConsentPage(p page) bool { return strings.Contains(p.body, `id="consent-approve"`) }

// approveConsent presses the consent page's approve button.
func (b *browser) approveConsent(p page) page {
	b.t.Helper()
	m := actionRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on the consent page %s", p.url)
	}
	return b.post(p.url.Scheme+"://"+p.url.Host+m[1], url.Values{"step": {"consent"}, "decision": {"approve"}})
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// post submits a same-origin form, as a browser does (Origin and
// Sec-Fetch-Site set).
func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	pu, _ := url.Parse(u)
	req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// login fills the password form on p and submits it.
func (b *browser) login(base string, p page, number, pw string) page {
	b.t.Helper()
	m := actionRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no login form on %s (status %d): %.300s", p.url, p.status, p.body)
	}
	return b.post(base+m[1], url.Values{"number": {number}, "password": {pw}})
}

func isLoginForm(p page) bool {
	return strings.Contains(p.body, `autocomplete="current-password"`) && strings.Contains(p.body, `autocomplete="username`) // "username" or "username webauthn"
}
