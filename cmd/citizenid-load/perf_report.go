package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/session"
)

// bounds are the seconds one core spends on each cryptographic operation
// the scenarios need, measured in this process on one goroutine.
type bounds struct {
	Argon2Params string  `json:"argon2id_params"`
	Argon2       float64 `json:"argon2id_seconds"`
	RSAName      string  `json:"rsa"`
	RSASign      float64 `json:"rsa_sign_seconds"`
	RSAVerify    float64 `json:"rsa_verify_seconds"`
	ES256Verify  float64 `json:"es256_verify_seconds"`
	// JWTName, JWTSign and JWTVerify are the algorithm tokens are signed
	// with (keys.algorithm) and the seconds of one such signature and of
	// its verification.
	JWTName   string  `json:"jwt"`
	JWTSign   float64 `json:"jwt_sign_seconds"`
	JWTVerify float64 `json:"jwt_verify_seconds"`
}

// measure runs fn on this goroutine for at least d and 3 runs, and
// returns the seconds per run.
func measure(d time.Duration, fn func()) float64 {
	start := time.Now()
	n := 0
	for n < 3 || time.Since(start) < d {
		fn()
		n++
	}
	return time.Since(start).Seconds() / float64(n)
}

// measureAlone is measure for argon2id, a run long enough for the
// driver's collector to start one in the middle: it times each run
// alone, starting right after a collection and with the collector held
// off until it ends, and returns the seconds per run. With measure, when
// argon2id still allocated its 19 MiB per run, every run set off a
// collection that marked this process's heap — the server's packages
// are linked in, so about as much as the server's own — and the bound
// came out about a tenth slower than argon2id in a process of its own
// (38.5 against 42.8/s in three pairs): the ratio hid the server's
// collections, which are its cost, not the hash's.
func measureAlone(d time.Duration, fn func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var spent time.Duration
	n := 0
	for n < 3 || spent < d {
		runtime.GC()
		start := time.Now()
		fn()
		spent += time.Since(start)
		n++
	}
	runtime.GC()
	return spent.Seconds() / float64(n)
}

// boundMeter measures the cryptography's bounds: argon2id with the
// server's configured parameters, the RSA (RS256) signature and
// verification of the configured key size, the ES256 verification of a
// WebAuthn assertion, and the signature and verification of tokens with
// the configured algorithm. Its keys are made once.
type boundMeter struct {
	cfg    config.Config
	hasher *password.Hasher // the server's, with its parameters
	phc    string           // perfPassword hashed by it
	rk     *rsa.PrivateKey
	ek     *ecdsa.PrivateKey
	edk    ed25519.PrivateKey
	sum    [32]byte // a JWT's signing input, hashed: header.claims, about what an ID token holds
	edIn   []byte   // an EdDSA JWT's signing input (EdDSA hashes its own)
}

func newBoundMeter(cfg config.Config) *boundMeter {
	rk, err := rsa.GenerateKey(rand.Reader, cfg.Keys.RSABits)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	hasher := app.Hasher(&cfg)
	phc, err := hasher.Hash(perfPassword)
	if err != nil {
		panic(err)
	}
	return &boundMeter{cfg: cfg, hasher: hasher, phc: phc, rk: rk, ek: ek, edk: edk,
		sum:  sha256.Sum256([]byte(strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 30))),
		edIn: []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9", 30))}
}

// measure measures every bound, spending about 4.5 × d.
func (m *boundMeter) measure(d time.Duration) bounds {
	p := m.cfg.Password
	b := bounds{Argon2Params: fmt.Sprintf("m=%d KiB, t=%d, p=%d", p.MemoryKiB, p.Time, p.Threads)}
	// As the server verifies a password: in the hasher's kept buffer
	// (mapped, on huge pages where there are), which the first run after
	// 2 s idle maps again; that run is not timed.
	verify := func() {
		if ok, _, err := m.hasher.Verify(perfPassword, m.phc); !ok || err != nil {
			panic(fmt.Sprintf("argon2id bound: verify: %v, %v", ok, err))
		}
	}
	verify()
	b.Argon2 = measureAlone(2*d, verify)

	bits := m.cfg.Keys.RSABits
	b.RSAName = fmt.Sprintf("RS256(%d)", bits)
	sum := m.sum[:]
	var sig []byte
	b.RSASign = measure(d, func() { sig, _ = rsa.SignPKCS1v15(nil, m.rk, crypto.SHA256, sum) })
	b.RSAVerify = measure(d/2, func() { rsa.VerifyPKCS1v15(&m.rk.PublicKey, crypto.SHA256, sum, sig) })

	esig, _ := ecdsa.SignASN1(rand.Reader, m.ek, sum)
	b.ES256Verify = measure(d/2, func() { ecdsa.VerifyASN1(&m.ek.PublicKey, sum, esig) })

	b.JWTName, b.JWTSign, b.JWTVerify = b.RSAName, b.RSASign, b.RSAVerify
	switch alg := m.cfg.Keys.Algorithm; alg {
	case "PS256":
		b.JWTName = fmt.Sprintf("PS256(%d)", bits)
		var psig []byte
		b.JWTSign = measure(d, func() { psig, _ = rsa.SignPSS(rand.Reader, m.rk, crypto.SHA256, sum, nil) })
		b.JWTVerify = measure(d/2, func() { rsa.VerifyPSS(&m.rk.PublicKey, crypto.SHA256, sum, psig, nil) })
	case "ES256":
		b.JWTName = alg
		b.JWTSign = measure(d/2, func() { ecdsa.SignASN1(rand.Reader, m.ek, sum) })
		b.JWTVerify = b.ES256Verify
	case "EdDSA":
		b.JWTName = alg
		var edsig []byte
		b.JWTSign = measure(d/2, func() { edsig = ed25519.Sign(m.edk, m.edIn) })
		pub := m.edk.Public().(ed25519.PublicKey)
		b.JWTVerify = measure(d/2, func() { ed25519.Verify(pub, m.edIn, edsig) })
	}
	return b
}

// cpuSeconds is the user+system CPU time of process pid, from
// /proc/PID/stat (in clock ticks of 1/100 s, Linux's USER_HZ).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fs := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fs) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(fs[11], 10, 64)
	k, _ := strconv.ParseInt(fs[12], 10, 64)
	return float64(u+k) / 100
}

// procStatus returns a field of /proc/PID/status.
func procStatus(pid int, field string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// rssBytes reads a resident-set field of /proc/PID/status: VmRSS, or
// its parts RssAnon (heap, stacks: what the server allocated) and
// RssFile (pages of the executable and other mapped files, shared and
// reclaimable).
func rssBytes(pid int, field string) int64 {
	kb, _ := strconv.ParseInt(strings.TrimSuffix(procStatus(pid, field), " kB"), 10, 64)
	return kb * 1024
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func pinning(server int) string {
	return fmt.Sprintf("server on CPUs %s, driver on CPUs %s", procStatus(server, "Cpus_allowed_list"), procStatus(os.Getpid(), "Cpus_allowed_list"))
}

// settle waits, at most max, for the server's anonymous memory to stop
// falling for 4 s: a login burst leaves argon2id's 19 MiB buffers freed but
// still mapped, and the Go runtime's scavenger returns them to the
// system in the background. It returns how long that took.
func settle(ctx context.Context, pid int, max time.Duration) time.Duration {
	start := time.Now()
	last, still := rssBytes(pid, "RssAnon"), 0
	for time.Since(start) < max && still < 8 && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		now := rssBytes(pid, "RssAnon")
		if now < last-last/100 {
			still = 0
		} else {
			still++
		}
		last = min(last, now)
	}
	return time.Since(start)
}

// sessionPhase tops the live SSO sessions up to o.sessions with password
// logins (no token exchange: a login makes the session), then reads the
// server's RSS and the Redis bytes of a sample of sessions: those this
// phase made. It makes one login per worker at least, even when the
// scenarios' logins already made o.sessions: a sample of their sessions
// would measure what the scenarios added to them (the SAML scenario
// joins a second participant to each).
func (r *perfReport) sessionPhase(ctx context.Context, o perfOptions, t target, ws []*pw) {
	count := func() int {
		n := 0
		for _, w := range ws {
			n += w.sessions
		}
		return n
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	var mu sync.Mutex
	for _, w := range ws {
		w.lastCookie = ""
	}
	before := count()
	left := max(o.sessions-before, len(ws))
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				left--
				go_ := left >= 0
				mu.Unlock()
				if !go_ {
					return
				}
				if _, _, err := w.passwordLogin(ctx); err != nil && r.SessionPhaseError == "" {
					mu.Lock()
					r.SessionPhaseError = err.Error()
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	r.LiveSessions = count()
	r.PhaseLogins = r.LiveSessions - before
	r.RSSAfterLoginsBytes = rssBytes(t.pid, "VmRSS")
	r.RSSPeakBytes = rssBytes(t.pid, "VmHWM")
	r.RSSSettleSecs = settle(ctx, t.pid, 15*time.Second).Seconds()
	r.RSSBytes = rssBytes(t.pid, "VmRSS")
	r.RSSAnonBytes = rssBytes(t.pid, "RssAnon")
	r.RSSFileBytes = rssBytes(t.pid, "RssFile")
	var cookies []string
	for _, w := range ws {
		if w.lastCookie != "" {
			cookies = append(cookies, w.lastCookie)
		}
	}
	r.RedisPerSession, r.RedisMethod = redisBytes(ctx, t, cookies)
}

// redisBytes is the memory one SSO session takes in Redis, averaged over
// the sessions of the cookies: its record and sid keys, and its share of
// the citizen's session index and of the set of ends (key layout:
// internal/session/session.go), by MEMORY USAGE: Redis's own estimate,
// or the embedded server's of its Go maps.
func redisBytes(ctx context.Context, t target, cookies []string) (float64, string) {
	var rdb *redis.Client
	switch {
	case t.redisURL != "":
		opt, err := redis.ParseURL(t.redisURL)
		if err != nil {
			return 0, "unavailable: " + err.Error()
		}
		rdb = redis.NewClient(opt)
	case t.redisAddr != "":
		rdb = redis.NewClient(&redis.Options{Addr: t.redisAddr, DisableIdentity: true})
	default:
		return 0, "unavailable: Redis address unknown"
	}
	defer rdb.Close()
	if len(cookies) == 0 {
		return 0, "unavailable: no session"
	}
	const ends = "cid:ends"
	total := 0.0
	for _, c := range cookies {
		key := session.KeyOf(c)
		val, err := rdb.Get(ctx, key).Result()
		if err != nil {
			return 0, "unavailable: session record: " + err.Error()
		}
		var rec struct {
			SID       string `json:"s"`
			CitizenID string `json:"c"`
		}
		if err := json.Unmarshal([]byte(val), &rec); err != nil {
			return 0, "unavailable: session record: " + err.Error()
		}
		sid, index := "cid:sid:"+rec.SID, "cid:cs:"+rec.CitizenID
		usage := func(k string) float64 { n, _ := rdb.MemoryUsage(ctx, k).Result(); return float64(n) }
		share := func(k string, card func() (int64, error)) float64 {
			n, err := card()
			if err != nil || n == 0 {
				return 0
			}
			return usage(k) / float64(n)
		}
		total += usage(key) + usage(sid) +
			share(index, rdb.SCard(ctx, index).Result) +
			share(ends, rdb.ZCard(ctx, ends).Result)
	}
	method := "MEMORY USAGE of record and sid keys + per-member share of the citizen index and the set of ends"
	return total / float64(len(cookies)), fmt.Sprintf("%s, mean of %d sessions", method, len(cookies))
}

func (r *perfReport) print(w io.Writer) {
	fmt.Fprintf(w, "CitizenID perf — %s\nCPU: %s\n%s; server GOMAXPROCS=1; %d driver workers", r.Backend, r.CPU, r.Pinned, r.Workers)
	if r.Smoke {
		fmt.Fprint(w, "; SMOKE run: seconds per scenario, numbers are not measurements")
	}
	b := r.Bounds
	fmt.Fprintf(w, "\nbounds at the start (this process, one goroutine; each scenario's bound is measured again right before and after it): argon2id %s %.1f/s (in the server's hasher, each hash timed alone, no collection during it); %s sign %.0f/s, verify %.0f/s; ES256 verify %.0f/s; tokens: %s sign %.0f/s, verify %.0f/s\n\n",
		b.Argon2Params, 1/b.Argon2, b.RSAName, 1/b.RSASign, 1/b.RSAVerify, 1/b.ES256Verify, b.JWTName, 1/b.JWTSign, 1/b.JWTVerify)
	fmt.Fprintf(w, "%-27s %14s %12s %6s %9s %9s %11s %7s  %s\n", "scenario", "ops/s per core", "bound", "ratio", "p50", "p99", "p99/p50@70%", "errors", "cryptography")
	for _, x := range r.Results {
		bound, ratio := "-", "-"
		if x.Bound > 0 {
			bound, ratio = fmt.Sprintf("%.1f", x.Bound), fmt.Sprintf("%.2f", x.Ratio)
			if x.drifted() && !r.Smoke {
				ratio += "*"
			}
		}
		paced := "-"
		if x.Paced70P50ms > 0 {
			paced = fmt.Sprintf("%.1f", x.Paced70P99ms/x.Paced70P50ms)
			if x.paceDrifted() && !r.Smoke {
				paced += "†"
			}
			if x.driverBound() && !r.Smoke {
				paced += "‡"
			}
		}
		fmt.Fprintf(w, "%-27s %14.1f %12s %6s %7.2fms %7.2fms %11s %7d  %s\n", x.Scenario, x.PerCore, bound, ratio, x.P50ms, x.P99ms, paced, x.Errors, x.Crypto)
	}
	for _, x := range r.Results {
		if x.drifted() && !r.Smoke {
			fmt.Fprintf(w, "* %s: its bound was %.1f/s before it ran and %.1f/s after (more than %.0f %% apart): the machine's speed changed meanwhile; rerun before trusting this ratio\n",
				x.Scenario, x.BoundBefore, x.BoundAfter, 100*boundDrift)
		}
		if x.paceDrifted() && !r.Smoke {
			fmt.Fprintf(w, "† %s: the closed loop ran at %.0f/s right before its paced pass and at %.0f/s right after it (more than %.0f %% apart, also after a rerun at 70 %% of the second): the machine's speed changed during the pass; its p99/p50 may be an overload's queue, not the tail at 70 %%\n",
				x.Scenario, x.Paced70RateBefore, x.Paced70RateAfter, 100*rateSlack)
		}
		if x.driverBound() && !r.Smoke {
			fmt.Fprintf(w, "‡ %s: the driver's core was %.0f %% busy during the paced pass: its p99/p50 is mostly the driver's own queue\n",
				x.Scenario, 100*x.Paced70DriverLoad)
		}
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	fmt.Fprintf(w, "\nlive SSO sessions: %d (%d of them made by the session phase); server RSS: %.1f MiB (anonymous %.1f MiB, file-backed %.1f MiB), settled %.1f s after the logins that made them; right after them %.1f MiB; peak %.1f MiB\n",
		r.LiveSessions, r.PhaseLogins, mb(r.RSSBytes), mb(r.RSSAnonBytes), mb(r.RSSFileBytes), r.RSSSettleSecs, mb(r.RSSAfterLoginsBytes), mb(r.RSSPeakBytes))
	fmt.Fprintf(w, "Redis per SSO session: %.0f bytes (%s)\n", r.RedisPerSession, r.RedisMethod)
	for _, x := range r.Results {
		if x.FirstError != "" {
			fmt.Fprintf(w, "first error of %s: %s\n", x.Scenario, x.FirstError)
		}
	}
	if r.SessionPhaseError != "" {
		fmt.Fprintf(w, "first error of the session phase: %s\n", r.SessionPhaseError)
	}
}

// errorCount is the errors of every scenario.
func (r *perfReport) errorCount() int {
	n := 0
	for _, x := range r.Results {
		n += x.Errors
	}
	if r.SessionPhaseError != "" {
		n++
	}
	return n
}
