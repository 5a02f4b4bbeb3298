// Command citizenid-load measures a running CitizenID with real OpenID
// Connect traffic: each worker is a citizen's browser plus a portal, doing
// authorize (single sign-on after the first login) → code → token →
// userinfo → refresh, in a loop bounded by count and time. It reports
// throughput and latency percentiles per phase. It refuses any target that
// is not a loopback address: load is only ever sent to this machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

func main() {
	var o options
	flag.StringVar(&o.target, "target", "http://127.0.0.1:8080", "issuer URL of a CitizenID on this machine (loopback only)")
	flag.StringVar(&o.clientID, "client-id", "demo-portal", "a registered confidential client")
	flag.StringVar(&o.clientSecret, "client-secret", "", "its secret (env CITIZENID_LOAD_CLIENT_SECRET)")
	flag.StringVar(&o.redirectURI, "redirect-uri", "", "a redirect URI registered for the client (default <target>/demo/callback); never contacted")
	flag.StringVar(&o.number, "number", "001099012345", "citizen number to log in with")
	flag.StringVar(&o.password, "password", "", "the citizen's password (env CITIZENID_LOAD_PASSWORD)")
	flag.IntVar(&o.workers, "concurrency", 4, "parallel browsers (1-64)")
	flag.IntVar(&o.iterations, "requests", 200, "total authorization flows (1-100000)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "stop after this long (at most 10m)")
	var po perfOptions
	perf := flag.Bool("perf", false, "perf mode: start the citizenid binary of -server pinned to CPU 0, measure every scenario against the bound of its cryptography, print the table (README, \"Performance\")")
	flag.StringVar(&po.server, "server", "./citizenid", "perf: the citizenid binary to start")
	flag.StringVar(&po.databaseURL, "database-url", "", "perf: PostgreSQL URL (with -redis-url) instead of the embedded default")
	flag.StringVar(&po.redisURL, "redis-url", "", "perf: Redis URL (with -database-url)")
	flag.BoolVar(&po.smoke, "smoke", false, "perf: a short pass (about a second per scenario, few sessions): checks that everything runs, measures nothing")
	flag.StringVar(&po.jsonPath, "json", "", "perf: also write the report as JSON to this file")
	flag.DurationVar(&po.scenario, "scenario-time", 0, "perf: time per scenario (default 10s, smoke 1s)")
	flag.IntVar(&po.sessions, "sessions", 0, "perf: live SSO sessions before reading the server's RSS (default 10000, smoke 20)")
	flag.StringVar(&po.algorithm, "algorithm", "", "perf: the server's keys.algorithm (RS256, PS256, ES256, EdDSA): what its tokens are signed with")
	flag.StringVar(&po.only, "only", "", "perf: run only the scenarios whose names contain one of these comma-separated words (e.g. \"refresh,password\")")
	flag.StringVar(&po.serverEnv, "server-env", "", "perf: NAME=VALUE settings, space-separated, for the server process only (e.g. \"GOGC=off GOMEMLIMIT=200MiB\")")
	flag.StringVar(&po.tokenFormat, "access-token-format", "", "perf: the perf portal's access token format, jwt (default) or opaque")
	flag.StringVar(&po.pprofDir, "pprof", "", "perf: write a CPU profile of the server per scenario, and its heap after the session phase, into this directory")
	flag.Parse()
	if *perf {
		po.workers = 8
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "concurrency" {
				po.workers = o.workers
			}
		})
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := perfBinary(ctx, po); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		return
	}
	if o.clientSecret == "" {
		o.clientSecret = os.Getenv("CITIZENID_LOAD_CLIENT_SECRET")
	}
	if o.password == "" {
		o.password = os.Getenv("CITIZENID_LOAD_PASSWORD")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
}

type options struct {
	target, clientID, clientSecret, redirectURI, number, password string
	workers, iterations                                           int
	duration                                                      time.Duration
}

func (o *options) check() error {
	u, err := url.Parse(o.target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("target %q is not a URL", o.target)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("target %q: load is only sent to loopback addresses", o.target)
	}
	if o.redirectURI == "" {
		o.redirectURI = strings.TrimSuffix(o.target, "/") + "/demo/callback"
	}
	switch {
	case o.workers < 1 || o.workers > 64:
		return errors.New("concurrency must be 1 to 64")
	case o.iterations < 1 || o.iterations > 100000:
		return errors.New("requests must be 1 to 100000")
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return errors.New("duration must be positive and at most 10m")
	case o.clientSecret == "" || o.password == "":
		return errors.New("a client secret and a password are required")
	}
	return nil
}

// phases measured, in order.
var phases = []string{"login (first, with password)", "authorize (single sign-on)", "token (code exchange)", "userinfo", "refresh"}

type report struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	errors    map[string]int
	flows     int
	elapsed   time.Duration
}

func (r *report) add(phase string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[phase]++
		return
	}
	r.latencies[phase] = append(r.latencies[phase], d)
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "%d flows in %s: %.1f flows/s\n", r.flows, r.elapsed.Round(time.Millisecond), float64(r.flows)/r.elapsed.Seconds())
	fmt.Fprintf(w, "%-30s %7s %7s %9s %9s %9s %9s\n", "phase", "ok", "errors", "p50", "p90", "p99", "max")
	for _, p := range phases {
		l := slices.Clone(r.latencies[p])
		slices.Sort(l)
		pct := func(q float64) time.Duration {
			if len(l) == 0 {
				return 0
			}
			return l[min(len(l)-1, int(q*float64(len(l))))]
		}
		fmt.Fprintf(w, "%-30s %7d %7d %9s %9s %9s %9s\n", p, len(l), r.errors[p],
			pct(.5).Round(time.Microsecond), pct(.9).Round(time.Microsecond), pct(.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	}
}

func run(ctx context.Context, o options) (*report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	rep := &report{latencies: map[string][]time.Duration{}, errors: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		for range o.iterations {
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(o)
			for range jobs {
				if w.flow(ctx, rep) {
					rep.mu.Lock()
					rep.flows++
					rep.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep, nil
}

// worker is one browser with its cookie jar and one portal.
type worker struct {
	o        options
	browser  *http.Client
	conf     *oauth2.Config
	loggedIn bool
}

func newWorker(o options) *worker {
	jar, _ := cookiejar.New(nil)
	base := strings.TrimSuffix(o.target, "/")
	return &worker{o: o,
		browser: &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), o.redirectURI) {
				return http.ErrUseLastResponse
			}
			return nil
		}},
		conf: &oauth2.Config{ClientID: o.clientID, ClientSecret: o.clientSecret, RedirectURL: o.redirectURI,
			Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/oauth/token"},
			Scopes:   []string{"openid", "profile", "offline_access"}},
	}
}

var actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// flow runs one authorization flow and reports whether it completed.
func (w *worker) flow(ctx context.Context, rep *report) bool {
	verifier := oauth2.GenerateVerifier()
	authURL := w.conf.AuthCodeURL("load", oauth2.S256ChallengeOption(verifier))
	phase := phases[1]
	if !w.loggedIn {
		phase = phases[0]
	}
	t0 := time.Now()
	code, err := w.authorize(ctx, authURL)
	rep.add(phase, time.Since(t0), err)
	if err != nil {
		return false
	}
	w.loggedIn = true
	t0 = time.Now()
	tok, err := w.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	rep.add(phases[2], time.Since(t0), err)
	if err != nil {
		return false
	}
	t0 = time.Now()
	err = w.userinfo(ctx, tok.AccessToken)
	rep.add(phases[3], time.Since(t0), err)
	if err != nil {
		return false
	}
	t0 = time.Now()
	_, err = w.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	rep.add(phases[4], time.Since(t0), err)
	return err == nil
}

func (w *worker) authorize(ctx context.Context, authURL string) (string, error) {
	resp, body, err := w.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	if m := actionRE.FindStringSubmatch(body); m != nil && resp.StatusCode == http.StatusOK {
		form := url.Values{"step": {"password"}, "number": {w.o.number}, "password": {w.o.password}}
		action := resp.Request.URL.ResolveReference(&url.URL{Path: m[1]}).String()
		if resp, body, err = w.do(ctx, http.MethodPost, action, form); err != nil {
			return "", err
		}
	}
	// The portal asks for personal data: the citizen approves (once; the
	// next flows are covered).
	if m := actionRE.FindStringSubmatch(body); m != nil && resp.StatusCode == http.StatusOK && strings.Contains(body, `id="consent-approve"`) {
		form := url.Values{"step": {"consent"}, "decision": {"approve"}}
		action := resp.Request.URL.ResolveReference(&url.URL{Path: m[1]}).String()
		if resp, _, err = w.do(ctx, http.MethodPost, action, form); err != nil {
			return "", err
		}
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code (status %d, location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code"), nil
}

func (w *worker) do(ctx context.Context, method, u string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := w.browser.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b), err
}

func (w *worker) userinfo(ctx context.Context, accessToken string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(w.o.target, "/")+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("userinfo: status %d", resp.StatusCode)
	}
	return nil
}
