package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The perf driver's smoke pass against an in-process server, on the
// embedded default and on PostgreSQL + Redis: every scenario runs and the
// table prints with no errors. Numbers are not checked (and, with driver
// and server in one process, mean nothing): a benchmark, not a test.
func TestPerfSmoke(t *testing.T) {
	for _, services := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres+redis"}[services], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			// localhost, not 127.0.0.1: a passkey's RP ID is a host name.
			cfg.Server.Issuer = "http://localhost:" + strings.Split(ln.Addr().String(), ":")[1]
			cfg.Password.MemoryKiB, cfg.Password.Time = 8192, 1
			if services {
				cfg.Dev = true
				cfg.Database.URL, cfg.Redis.URL = testenv.PostgresURL(t), testenv.RedisURL(t)
			}
			ctx := context.Background()
			in, err := app.Build(ctx, cfg, server.NewLogger(io.Discard, "text", "error"), app.BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(in.Handler)
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			t.Cleanup(func() { srv.Close(); in.Close() })
			o := perfOptions{smoke: true, scenario: 300 * time.Millisecond, sessions: 10, workers: 2}
			var out bytes.Buffer
			o.out = &out
			if err := o.defaults(); err != nil {
				t.Fatal(err)
			}
			fx, err := seed(ctx, in, cfg, o.sessions, o.workers, o.tokenFormat)
			if err != nil {
				t.Fatal(err)
			}
			tg := target{base: cfg.Server.Issuer, pid: os.Getpid(), backend: "in-process test", redisURL: cfg.Redis.URL}
			if !services {
				tg.redisAddr = in.Redis.Embedded.Addr()
			}
			if err := runPerf(ctx, o, cfg, tg, fx); err != nil {
				t.Fatalf("perf: got %v, want no error:\n%s", err, out.String())
			}
			for _, want := range []string{"CPU: ", "password login", "passkey login", "refresh grant", "refresh grant, opaque token", "client credentials", "userinfo",
				"introspection", "discovery", "JWKS", "SAML SSO", "server RSS", "Redis per SSO session"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
			// The scenarios' logins made more sessions than asked for; the
			// phase still makes one per worker, the sample it measures.
			if m := regexp.MustCompile(`\((\d+) of them made by the session phase\)`).FindStringSubmatch(out.String()); m == nil || m[1] == "0" {
				t.Errorf("session phase: got %v logins, want one per worker at least:\n%s", m, out.String())
			}
			t.Log("\n" + out.String())
		})
	}
}

// TestPerfServices is make perf's run on PostgreSQL + Redis, which it gets
// the way the tests do (internal/testenv). It runs only when make perf
// names the server binary.
func TestPerfServices(t *testing.T) {
	bin := os.Getenv("CITIZENID_PERF_SERVER")
	if bin == "" {
		t.Skip("CITIZENID_PERF_SERVER not set: make perf runs this")
	}
	o := perfOptions{server: bin, databaseURL: testenv.PostgresURL(t), redisURL: testenv.RedisURL(t), workers: 8,
		smoke: os.Getenv("CITIZENID_PERF_SMOKE") != "", jsonPath: os.Getenv("CITIZENID_PERF_JSON"), pprofDir: os.Getenv("CITIZENID_PERF_PPROF"),
		algorithm: os.Getenv("CITIZENID_PERF_ALGORITHM"), only: os.Getenv("CITIZENID_PERF_ONLY")}
	// What -scenario-time and -sessions set for the embedded run.
	if v := os.Getenv("CITIZENID_PERF_SCENARIO_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CITIZENID_PERF_SCENARIO_TIME: %v", err)
		}
		o.scenario = d
	}
	if v := os.Getenv("CITIZENID_PERF_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("CITIZENID_PERF_SESSIONS: %v", err)
		}
		o.sessions = n
	}
	if err := perfBinary(t.Context(), o); err != nil {
		t.Fatal(err)
	}
}

// Userinfo and introspection are bounded by verifying the access token
// with the algorithm tokens are signed with, and by nothing for an opaque
// token (looked up, not verified).
func TestTokenChecksBoundedByTheirAlgorithm(t *testing.T) {
	b := bounds{RSAName: "RS256(2048)", RSAVerify: 1e-5, ES256Verify: 1e-4, JWTName: "ES256", JWTVerify: 1e-4}
	if d, c := verifications(b, jwts("eyJh.eyJz.c2ln")); d != "1×ES256 verify" || c != 1e-4 {
		t.Errorf("a JWT: got %q %g, want 1×ES256 verify at 1e-4", d, c)
	}
	if d, c := verifications(b, jwts("opaque-reference")); d != "none" || c != 0 {
		t.Errorf("an opaque token: got %q %g, want none", d, c)
	}
}

// A scenario's bound is one over the mean of the cost measured right
// before it and right after it, and its ratio is flagged when the two
// differ by more than boundDrift (the machine's speed changed).
func TestBoundFromBeforeAndAfter(t *testing.T) {
	sc := scenario{crypto: signatures}
	before := bounds{JWTName: "ES256", JWTSign: 1e-4}
	for _, c := range []struct {
		after     float64 // seconds per signature after the scenario
		bound     float64
		drifted   bool
		perCore   float64
		wantRatio float64
	}{
		{after: 1e-4, bound: 5000, perCore: 2500, wantRatio: 0.5},
		{after: 1.05e-4, bound: 2 / (2e-4 + 2.1e-4), perCore: 2500, wantRatio: 2500 / (2 / (2e-4 + 2.1e-4))},
		{after: 2e-4, bound: 2 / (2e-4 + 4e-4), drifted: true, perCore: 2500, wantRatio: 2500 / (2 / (2e-4 + 4e-4))},
	} {
		r := result{PerCore: c.perCore, sigs: 2}
		r.bound(sc, before, bounds{JWTName: "ES256", JWTSign: c.after})
		if math.Abs(r.Bound-c.bound) > 1e-6 || math.Abs(r.Ratio-c.wantRatio) > 1e-9 || r.drifted() != c.drifted || r.Crypto != "2×ES256 sign" {
			t.Errorf("after %g: got bound %g ratio %g drifted %v (%q), want %g %g %v", c.after, r.Bound, r.Ratio, r.drifted(), r.Crypto, c.bound, c.wantRatio, c.drifted)
		}
	}
	// No cryptography: no bound, nothing flagged.
	r := result{PerCore: 1000}
	r.bound(scenario{crypto: signatures}, before, before)
	if r.Bound != 0 || r.Ratio != 0 || r.drifted() || r.Crypto != "none" {
		t.Errorf("no signatures: got %+v", r)
	}
}

// argon2id's bound is its own time: no collection (of the driver's heap)
// runs while it is timed, though each run allocates far past the heap's
// goal, and the collector's setting is left as it was.
func TestMeasureAloneTimesNoCollection(t *testing.T) {
	cycles := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	count := func() uint64 { metrics.Read(cycles); return cycles[0].Value.Uint64() }
	was := debug.SetGCPercent(100)
	debug.SetGCPercent(was)
	var buf []byte
	runs, during := 0, uint64(0)
	secs := measureAlone(30*time.Millisecond, func() {
		n := count()
		buf = make([]byte, 64<<20) // as argon2id's buffer: far past the heap's goal
		buf[len(buf)-1] = 1
		time.Sleep(5 * time.Millisecond) // room for a collection it set off to finish
		during += count() - n
		runs++
	})
	if during != 0 {
		t.Errorf("%d collections ran while runs were timed", during)
	}
	if runs < 3 || secs <= 0 {
		t.Errorf("%d runs, %g s each: want at least 3 and a time", runs, secs)
	}
	if p := debug.SetGCPercent(was); p != was {
		t.Errorf("GOGC left at %d, want %d", p, was)
	}
	_ = buf
}

// A paced pass runs at 70 % of the closed-loop rate measured right before
// it; when the closed loop right after it runs at a rate more than
// rateSlack apart, the pass runs once more at 70 % of that rate, and the
// row says so when the rates still moved. The server's load is not what
// it aims at (it may rise as the rate falls: fewer writes share a commit).
func TestPaceRerunsWhenTheMachineMoved(t *testing.T) {
	for _, c := range []struct {
		name      string
		probes    []float64 // the closed-loop rate after each pass
		wantRates []float64
		drifted   bool
	}{
		{"steady", []float64{1080}, []float64{700}, false},
		{"machine slowed", []float64{700, 690}, []float64{700, 490}, false},
		{"machine sped up", []float64{1300, 1250}, []float64{700, 910}, false},
		{"still moving", []float64{700, 500}, []float64{700, 490}, true},
		{"nothing measured after", []float64{0}, []float64{700}, false},
	} {
		var rates []float64
		p := pace(1000, func(rate float64) pacedPass {
			rates = append(rates, rate)
			return pacedPass{p50: 1, p99: 2, load: 0.9, errs: 1}
		}, func() (float64, int) {
			return c.probes[len(rates)-1], 1
		})
		if p.errs != 2*len(c.probes) {
			t.Errorf("%s: %d errors, want each pass's and each probe's (%d)", c.name, p.errs, 2*len(c.probes))
		}
		if len(rates) != len(c.wantRates) {
			t.Fatalf("%s: %d passes at %v, want %v", c.name, len(rates), rates, c.wantRates)
		}
		for i := range rates {
			if math.Abs(rates[i]-c.wantRates[i]) > 1e-9 {
				t.Errorf("%s: pass %d at %g/s, want %g/s", c.name, i+1, rates[i], c.wantRates[i])
			}
		}
		r := result{Paced70Rate: p.rate, Paced70RateBefore: p.before, Paced70RateAfter: p.after}
		last := c.probes[len(c.probes)-1]
		if p.rate != rates[len(rates)-1] || p.after != last || math.Abs(p.before-p.rate/0.7) > 1e-9 || r.paceDrifted() != c.drifted {
			t.Errorf("%s: got rate %g, before %g, after %g, drifted %v; want the last pass's %g, after %g, drifted %v",
				c.name, p.rate, p.before, p.after, r.paceDrifted(), rates[len(rates)-1], last, c.drifted)
		}
	}
}
