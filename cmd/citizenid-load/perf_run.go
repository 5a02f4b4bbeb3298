package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crewjam/saml/samlsp"

	"github.com/citizenid/citizenid/internal/authn/webauthn/webauthntest"
	"github.com/citizenid/citizenid/internal/config"
)

// scenario is one measured flow. op runs it once and returns how many
// signatures the server made for it (read from what it answered).
type scenario struct {
	name    string
	crypto  func(b bounds, sigs int) (string, float64) // description, seconds of crypto per op (0: none)
	prepare func(ctx context.Context, w *pw) error     // per worker, untimed
	op      func(ctx context.Context, w *pw) (int, error)
}

// signatures is the cost of n token signatures (keys.algorithm).
func signatures(b bounds, n int) (string, float64) {
	if n == 0 {
		return "none", 0
	}
	return fmt.Sprintf("%d×%s sign", n, b.JWTName), float64(n) * b.JWTSign
}

// rsaSignatures is the cost of n RSA signatures (SAML signs with RSA).
func rsaSignatures(b bounds, n int) (string, float64) {
	if n == 0 {
		return "none", 0
	}
	return fmt.Sprintf("%d×%s sign", n, b.RSAName), float64(n) * b.RSASign
}

// verifications is the cost of checking n access tokens: a JWT's
// signature, with the algorithm tokens are signed with; an opaque token
// is looked up, which needs none.
func verifications(b bounds, n int) (string, float64) {
	if n == 0 {
		return "none", 0
	}
	return fmt.Sprintf("%d×%s verify", n, b.JWTName), float64(n) * b.JWTVerify
}

// jwts is 1 for a JWT (three dot-separated parts), 0 for an opaque token.
func jwts(token string) int {
	if strings.Count(token, ".") == 2 {
		return 1
	}
	return 0
}

// withSigs is the cost of what (its seconds read from the bounds by
// cost) and n token signatures.
func withSigs(what string, cost func(bounds) float64) func(b bounds, n int) (string, float64) {
	return func(b bounds, n int) (string, float64) {
		d, c := signatures(b, n)
		if n == 0 {
			return what, cost(b)
		}
		return what + " + " + d, cost(b) + c
	}
}

func scenarios() []scenario {
	tokens := func(ctx context.Context, w *pw) error { return w.ensureTokens(ctx) }
	get := func(u func(w *pw) string) func(ctx context.Context, w *pw) (int, error) {
		return func(ctx context.Context, w *pw) (int, error) {
			a, err := w.send(ctx, w.api(), http.MethodGet, u(w), nil, nil)
			if err == nil && a.status != http.StatusOK {
				err = fmt.Errorf("status %d", a.status)
			}
			return 0, err
		}
	}
	none := func(bounds, int) (string, float64) { return "none", 0 }
	return []scenario{
		{name: "password login", crypto: withSigs("argon2id", func(b bounds) float64 { return b.Argon2 }),
			op: func(ctx context.Context, w *pw) (int, error) {
				code, v, err := w.passwordLogin(ctx)
				if err != nil {
					return 0, err
				}
				return w.exchange(ctx, code, v)
			}},
		{name: "passkey login", crypto: withSigs("ES256 verify", func(b bounds) float64 { return b.ES256Verify }),
			op: func(ctx context.Context, w *pw) (int, error) {
				code, v, err := w.passkeyLogin(ctx)
				if err != nil {
					return 0, err
				}
				return w.exchange(ctx, code, v)
			}},
		{name: "refresh grant", crypto: signatures, prepare: tokens,
			op: func(ctx context.Context, w *pw) (int, error) { return w.refreshGrant(ctx, w.conf, w.refresh) }},
		// The same grant for a portal with opaque access tokens: one
		// signature (the ID token), not two.
		{name: "refresh grant, opaque token", crypto: signatures, prepare: func(ctx context.Context, w *pw) error { return w.ensureOpaqueTokens(ctx) },
			op: func(ctx context.Context, w *pw) (int, error) {
				return w.refreshGrant(ctx, w.opaqueConf, w.opaqueRefresh)
			}},
		{name: "client credentials", crypto: signatures,
			op: func(ctx context.Context, w *pw) (int, error) {
				t, err := w.token(ctx, perfAdmin, w.fx.adminSecret, url.Values{"grant_type": {"client_credentials"}})
				return t.signed(), err
			}},
		{name: "userinfo", crypto: verifications, prepare: tokens,
			op: func(ctx context.Context, w *pw) (int, error) {
				a, err := w.send(ctx, w.api(), http.MethodGet, w.disc.Userinfo, nil, map[string]string{"Authorization": "Bearer " + w.access})
				if err == nil && a.status != http.StatusOK {
					err = fmt.Errorf("userinfo: status %d", a.status)
				}
				return jwts(w.access), err
			}},
		{name: "introspection", crypto: verifications, prepare: tokens,
			op: func(ctx context.Context, w *pw) (int, error) {
				t, err := w.token2(ctx, w.disc.Introspection, url.Values{"token": {w.access}})
				if err == nil && (t.Active == nil || !*t.Active) {
					err = fmt.Errorf("introspection: token not active")
				}
				return jwts(w.access), err
			}},
		{name: "discovery", crypto: none, op: get(func(w *pw) string { return w.t.base + "/.well-known/openid-configuration" })},
		{name: "JWKS", crypto: none, op: get(func(w *pw) string { return w.disc.JWKS })},
		{name: "SAML SSO (session)", crypto: rsaSignatures,
			prepare: func(ctx context.Context, w *pw) error { _, _, err := w.passwordLogin(ctx); return err },
			op:      func(ctx context.Context, w *pw) (int, error) { return w.samlSSO(ctx) }},
	}
}

// token2 posts form to an endpoint authenticated as the portal and
// decodes the JSON answer.
func (w *pw) token2(ctx context.Context, endpoint string, form url.Values) (tokenAnswer, error) {
	a, err := w.send(ctx, w.api(), http.MethodPost, endpoint, form, map[string]string{"Authorization": basic(perfClient, w.fx.secret)})
	if err != nil {
		return tokenAnswer{}, err
	}
	var t tokenAnswer
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &t) != nil {
		return t, fmt.Errorf("status %d: %.200s", a.status, a.body)
	}
	return t, nil
}

// result is one scenario's row.
type result struct {
	Scenario   string  `json:"scenario"`
	Ops        int     `json:"ops"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	WallSecs   float64 `json:"wall_seconds"`
	CPUSecs    float64 `json:"server_cpu_seconds"`
	PerCore    float64 `json:"ops_per_server_core_second"`
	Crypto     string  `json:"crypto"`
	// Bound is one over the mean of the cryptography's cost measured
	// right before the scenario and right after it (BoundBefore,
	// BoundAfter); 0: no cryptography.
	Bound       float64 `json:"bound_ops_per_second,omitempty"`
	BoundBefore float64 `json:"bound_before_ops_per_second,omitempty"`
	BoundAfter  float64 `json:"bound_after_ops_per_second,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	// At 70 % of the rate the closed loop reached, open-loop (paced).
	Paced70P50ms float64 `json:"paced70_p50_ms,omitempty"`
	Paced70P99ms float64 `json:"paced70_p99_ms,omitempty"`
	// The paced pass's rate (ops/s), and the closed-loop rates right
	// before it (the pass is at 70 % of that) and right after it. Apart
	// by more than rateSlack, the machine's speed changed during the
	// pass (see paceDrifted).
	Paced70Rate       float64 `json:"paced70_rate,omitempty"`
	Paced70RateBefore float64 `json:"paced70_closed_rate_before,omitempty"`
	Paced70RateAfter  float64 `json:"paced70_closed_rate_after,omitempty"`
	// The server's load during the paced pass (CPU seconds per wall
	// second), for the record.
	Paced70Load float64 `json:"paced70_server_load,omitempty"`
	// The driver's own load during it: above driverBusy, its latencies
	// are mostly the driver's queue (see driverBound).
	Paced70DriverLoad float64 `json:"paced70_driver_load,omitempty"`

	sigs int // the most signatures the server made for one op
}

// boundDrift is how far a scenario's two bounds may differ before its
// ratio is flagged: the machine's speed changed while it ran.
const boundDrift = 0.10

// bound sets r's cryptography and bound from the bounds measured before
// and after the scenario ran.
func (r *result) bound(sc scenario, before, after bounds) {
	var c0, c1 float64
	r.Crypto, c0 = sc.crypto(before, r.sigs)
	_, c1 = sc.crypto(after, r.sigs)
	if c0 > 0 && c1 > 0 {
		r.BoundBefore, r.BoundAfter = 1/c0, 1/c1
		r.Bound = 2 / (c0 + c1)
		r.Ratio = r.PerCore / r.Bound
	}
}

// drifted reports whether the bounds before and after r's scenario differ
// by more than boundDrift.
func (r result) drifted() bool {
	if r.BoundBefore == 0 || r.BoundAfter == 0 {
		return false
	}
	return math.Abs(r.BoundBefore-r.BoundAfter)/min(r.BoundBefore, r.BoundAfter) > boundDrift
}

// paceDrifted reports whether the closed-loop rates right before and
// right after r's paced pass (after its rerun) are more than rateSlack
// apart: the machine's speed changed during the pass, whose p99/p50 may
// then be an overload's queue rather than the tail at 70 %.
func (r result) paceDrifted() bool { return ratesApart(r.Paced70RateBefore, r.Paced70RateAfter) }

// driverBound reports whether the driver's core was nearly full during
// r's paced pass, so that its p99/p50 measures the driver more than the
// server.
func (r result) driverBound() bool { return r.Paced70DriverLoad > driverBusy }

// noProfile is run's profile when none is taken.
func noProfile(string, time.Duration) func() { return func() {} }

// probeTime is the longest closed loop run right after a paced pass to
// see whether the machine's speed held during it (pace).
const probeTime = 3 * time.Second

// run runs sc on every worker for d (at most 10^6 ops); result.bound
// completes it.
func (sc scenario) run(ctx context.Context, t target, ws []*pw, d time.Duration, profile func(string, time.Duration) func()) result {
	r := result{Scenario: sc.name}
	var mu sync.Mutex
	var lat []time.Duration
	var sigs atomic.Int64
	if sc.prepare != nil {
		for _, w := range ws {
			if err := sc.prepare(ctx, w); err != nil {
				r.Errors++
				r.FirstError = "prepare: " + err.Error()
				return r
			}
		}
	}
	var left atomic.Int64
	left.Store(1_000_000)
	stopProfile := profile(sc.name, d)
	cpu0 := cpuSeconds(t.pid)
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(d))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil && left.Add(-1) >= 0 {
				t0 := time.Now()
				n, err := sc.op(ctx, w)
				el := time.Since(t0)
				if ctx.Err() != nil {
					break // cut off by the deadline: neither done nor failed
				}
				if err != nil {
					mu.Lock()
					if r.Errors == 0 {
						r.FirstError = err.Error()
					}
					r.Errors++
					mu.Unlock()
					continue
				}
				if int64(n) > sigs.Load() {
					sigs.Store(int64(n))
				}
				mine = append(mine, el)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.WallSecs = time.Since(start).Seconds()
	r.CPUSecs = cpuSeconds(t.pid) - cpu0
	stopProfile()
	r.Ops = len(lat)
	if r.CPUSecs > 0 {
		r.PerCore = float64(r.Ops) / r.CPUSecs
	}
	r.sigs = int(sigs.Load())
	slices.Sort(lat)
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	r.P50ms, r.P99ms = pct(.5), pct(.99)
	return r
}

// perfReport is what a perf run prints and writes as JSON.
type perfReport struct {
	CPU          string   `json:"cpu"`
	Backend      string   `json:"backend"`
	Smoke        bool     `json:"smoke"`
	Workers      int      `json:"workers"`
	Pinned       string   `json:"pinned"`
	Bounds       bounds   `json:"bounds"`
	Results      []result `json:"scenarios"`
	LiveSessions int      `json:"live_sessions"`
	// PhaseLogins are the logins the session phase made itself (the
	// rest of LiveSessions the scenarios made).
	PhaseLogins  int   `json:"session_phase_logins"`
	RSSBytes     int64 `json:"server_rss_bytes"`
	RSSAnonBytes int64 `json:"server_rss_anon_bytes"`
	RSSFileBytes int64 `json:"server_rss_file_bytes"`
	// RSS* above are read once the anonymous memory stops falling after
	// the session phase's logins (RSSSettleSecs); these two are right
	// after the logins and the peak of the whole run (VmHWM).
	RSSSettleSecs       float64 `json:"server_rss_settle_seconds"`
	RSSAfterLoginsBytes int64   `json:"server_rss_after_logins_bytes"`
	RSSPeakBytes        int64   `json:"server_rss_peak_bytes"`
	RedisPerSession     float64 `json:"redis_bytes_per_session"`
	RedisMethod         string  `json:"redis_method"`
	SessionPhaseError   string  `json:"session_phase_error,omitempty"`
}

// runPerf seeds what needs the running server, runs every scenario and
// prints the report.
func runPerf(ctx context.Context, o perfOptions, cfg config.Config, t target, fx *fixtures) error {
	rep := &perfReport{CPU: cpuModel(), Backend: t.backend + ", tokens signed with " + cmp.Or(cfg.Keys.Algorithm, "RS256"), Smoke: o.smoke, Workers: o.workers, Pinned: pinning(t.pid)}
	meter := newBoundMeter(cfg)
	// A run's bounds are measured at its start (printed in its header),
	// and a scenario's again right before and right after it: this
	// machine's speed moves within minutes, and a ratio compares like
	// with like only when its bound is measured next to the scenario.
	boundTime := 500 * time.Millisecond
	if o.smoke {
		boundTime = 20 * time.Millisecond
	}
	rep.Bounds = meter.measure(2 * boundTime)
	tr := &http.Transport{MaxIdleConns: 4 * o.workers, MaxIdleConnsPerHost: 4 * o.workers, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	var d discovery
	if err := getJSON(ctx, t.base+"/.well-known/openid-configuration", &d); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	md, err := fetch(ctx, t.base+"/saml/metadata")
	if err != nil {
		return err
	}
	if fx.sp.IDPMetadata, err = samlsp.ParseMetadata(md); err != nil {
		return fmt.Errorf("saml metadata: %w", err)
	}
	var n atomic.Int64
	next := func() string { return fx.numbers[int(n.Add(1))%len(fx.numbers)] }
	ws := make([]*pw, o.workers)
	for i := range ws {
		ws[i] = newPW(t, fx, d, tr, next)
	}
	fx.dev = &webauthntest.Authenticator{Origin: t.base, UserVerified: true}
	for i, w := range ws {
		if w.cred, err = w.enrolPasskey(ctx, fx.passkeyNumbers[i]); err != nil {
			return fmt.Errorf("passkey of worker %d: %w", i, err)
		}
	}
	profile := noProfile
	if t.pprof != "" && o.pprofDir != "" {
		profile = func(name string, d time.Duration) func() { return startProfile(ctx, t.pprof, o.pprofDir, name, d) }
	}
	for _, sc := range scenarios() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if o.only != "" && !slices.ContainsFunc(strings.Split(o.only, ","), func(s string) bool { return strings.Contains(sc.name, strings.TrimSpace(s)) }) {
			continue
		}
		_, cost := sc.crypto(rep.Bounds, 1)
		before, after := rep.Bounds, rep.Bounds
		if cost > 0 {
			before = meter.measure(boundTime)
		}
		r := sc.run(ctx, t, ws, o.scenario, profile)
		if cost > 0 {
			after = meter.measure(boundTime)
		}
		r.bound(sc, before, after)
		if r.WallSecs > 0 && r.Ops > 0 {
			// A closed loop's deadline may have cut off a refresh the
			// server carried out: each paced pass starts from fresh tokens.
			fresh := func() error {
				for _, w := range ws {
					w.refresh, w.opaqueRefresh = "", ""
					if sc.prepare != nil {
						if err := sc.prepare(ctx, w); err != nil {
							return err
						}
					}
				}
				return nil
			}
			var failed error
			p := pace(float64(r.Ops)/r.WallSecs, func(rate float64) pacedPass {
				if failed == nil {
					failed = fresh()
				}
				if failed != nil {
					return pacedPass{}
				}
				return sc.paced(ctx, ws, t.pid, rate, o.scenario)
			}, func() (float64, int) {
				q := sc.run(ctx, t, ws, min(o.scenario, probeTime), noProfile)
				if r.FirstError == "" {
					r.FirstError = q.FirstError
				}
				if q.WallSecs == 0 {
					return 0, q.Errors
				}
				return float64(q.Ops) / q.WallSecs, q.Errors
			})
			if failed != nil {
				return failed
			}
			r.Paced70P50ms, r.Paced70P99ms, r.Paced70Load, r.Paced70DriverLoad = p.p50, p.p99, p.load, p.driverLoad
			r.Paced70Rate, r.Paced70RateBefore, r.Paced70RateAfter = p.rate, p.before, p.after
			r.Errors += p.errs
		}
		rep.Results = append(rep.Results, r)
	}
	rep.sessionPhase(ctx, o, t, ws)
	if t.pprof != "" && o.pprofDir != "" {
		saveHeap(ctx, t.pprof, o.pprofDir)
	}
	rep.print(o.out)
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if n := rep.errorCount(); n > 0 {
		return fmt.Errorf("%d errors", n)
	}
	return nil
}

func getJSON(ctx context.Context, u string, v any) error {
	b, err := fetch(ctx, u)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", u, resp.StatusCode)
	}
	return b, err
}

// startProfile takes a CPU profile of the server over d into dir.
func startProfile(ctx context.Context, pprof, dir, name string, d time.Duration) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(1, int(d.Seconds()))
		b, err := fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprof, secs))
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
			return
		}
		file := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(strings.ToLower(name)) + ".pprof"
		err = os.MkdirAll(dir, 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, file), b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(d + 10*time.Second):
		}
	}
}

// saveHeap writes the server's heap profile, taken after the session
// phase, into dir: what the RSS reported next to it is made of.
func saveHeap(ctx context.Context, pprof, dir string) {
	b, err := fetch(ctx, pprof+"/debug/pprof/heap?gc=1")
	if err == nil {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			err = os.WriteFile(filepath.Join(dir, "heap-after-sessions.pprof"), b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "heap profile: %v\n", err)
	}
	// The text form ends with the runtime's MemStats: heap in use, idle
	// and released to the system, stacks: how the RSS splits.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pprof+"/debug/pprof/heap?debug=1", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "heap MemStats: %v\n", err)
		return
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if _, stats, ok := bytes.Cut(text, []byte("\n# runtime.MemStats\n")); ok {
		if err := os.WriteFile(filepath.Join(dir, "memstats-after-sessions.txt"), stats, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "heap MemStats: %v\n", err)
		}
	}
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}
