package main

// Perf mode (-perf): every flow measured against the bound of its
// cryptography, in one run. The driver starts a citizenid binary on a temp
// data dir (pinned to CPU 0 with GOMAXPROCS=1 where taskset exists),
// seeds it through the same packages the server uses, measures in this
// process what the scenarios' cryptography alone costs on one core, runs
// each scenario, and prints one table row per scenario: requests done per
// second of the server's own CPU time (from /proc), that bound, their
// ratio, latency percentiles and errors. It also reports Redis bytes per
// SSO session and the server's RSS after creating many live sessions.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
)

// perfOptions configures a perf run.
type perfOptions struct {
	server      string // citizenid binary (binary mode)
	databaseURL string // with redisURL: PostgreSQL + Redis instead of the embedded default
	redisURL    string
	smoke       bool
	jsonPath    string
	scenario    time.Duration // per scenario
	sessions    int           // live sessions to create before reading RSS
	workers     int
	pprofDir    string // when set: a CPU profile of the server per scenario
	algorithm   string // keys.algorithm of the server: what its tokens are signed with
	only        string // comma-separated parts of scenario names to run (empty: all)
	serverEnv   string // space-separated NAME=VALUE for the server only (e.g. GOGC=off GOMEMLIMIT=200MiB)
	tokenFormat string // the perf portal's access token format: jwt (default) or opaque
	out         io.Writer
}

func (o *perfOptions) defaults() error {
	if o.scenario == 0 {
		o.scenario = 10 * time.Second
		if o.smoke {
			o.scenario = time.Second
		}
	}
	if o.sessions == 0 {
		o.sessions = 10000
		if o.smoke {
			o.sessions = 20
		}
	}
	switch {
	case o.workers < 1 || o.workers > 64:
		return errors.New("concurrency must be 1 to 64")
	case o.scenario <= 0 || o.scenario > 5*time.Minute:
		return errors.New("scenario duration must be positive and at most 5m")
	case o.sessions < 1 || o.sessions > 100000:
		return errors.New("sessions must be 1 to 100000")
	case (o.databaseURL == "") != (o.redisURL == ""):
		return errors.New("-database-url and -redis-url go together")
	}
	if o.out == nil {
		o.out = os.Stdout
	}
	return nil
}

// target is a running CitizenID the scenarios drive.
type target struct {
	base      string // issuer URL (http://localhost:PORT)
	pid       int    // whose CPU time and RSS are read
	backend   string // "embedded" or "postgres+redis"
	redisAddr string // host:port of the Redis it uses, "" when unknown
	redisURL  string // external Redis, or ""
	pprof     string // http://HOST:PORT of its pprof listener, or ""
}

// perfBinary runs the perf benchmark against a citizenid binary it starts.
func perfBinary(ctx context.Context, o perfOptions) error {
	if err := o.defaults(); err != nil {
		return err
	}
	if _, err := os.Stat(o.server); err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	dir, err := os.MkdirTemp("", "citizenid-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	// The server gets a pprof listener only when profiles are asked for:
	// without one it runs as in production (and keeps no heap profile).
	var pport int
	if o.pprofDir != "" {
		if pport, err = freePort(); err != nil {
			return err
		}
	}
	cfgPath, cfg, err := writeConfig(dir, port, o)
	if err != nil {
		return err
	}
	// Seed before the server starts, through the packages it uses: the
	// same data dir (or database) and configuration.
	in, err := app.Build(ctx, cfg, slog.New(slog.DiscardHandler), app.BuildOptions{})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fx, err := seed(ctx, in, cfg, o.sessions, o.workers, o.tokenFormat)
	in.Close()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	srv, err := startServer(ctx, o.server, cfgPath, dir, pport, o.serverEnv)
	if err != nil {
		return err
	}
	defer srv.stop()
	t := target{base: cfg.Server.Issuer, pid: srv.cmd.Process.Pid, backend: "embedded (SQLite + in-process Redis)"}
	if o.pprofDir != "" {
		t.pprof = fmt.Sprintf("http://127.0.0.1:%d", pport)
	}
	if o.databaseURL != "" {
		t.backend, t.redisURL = "PostgreSQL + Redis", o.redisURL
	} else if addr, err := embeddedRedisAddr(t.pid, port, pport); err == nil {
		t.redisAddr = addr
	} else {
		fmt.Fprintf(o.out, "note: embedded Redis not found (%v): no bytes per session\n", err)
	}
	return runPerf(ctx, o, cfg, t, fx)
}

// writeConfig writes the server's configuration and reads it back with
// the server's own loader, so the bounds use the parameters it runs with.
func writeConfig(dir string, port int, o perfOptions) (string, config.Config, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nserver:\n  addr: 127.0.0.1:%d\n  issuer: http://localhost:%d\nlog: {level: warn}\n", filepath.Join(dir, "data"), port, port)
	if o.algorithm != "" {
		fmt.Fprintf(&b, "keys: {algorithm: %s}\n", o.algorithm)
	}
	if o.databaseURL != "" {
		fmt.Fprintf(&b, "dev: true\ndatabase: {url: %q}\nredis: {url: %q}\n", o.databaseURL, o.redisURL)
	}
	path := filepath.Join(dir, "citizenid.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", config.Config{}, err
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err == nil {
		err = cfg.Validate()
	}
	return path, cfg, err
}

type serverProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startServer starts `citizenid serve`, pinned to CPU 0 with GOMAXPROCS=1
// (taskset when present), with its pprof listener on pprofPort unless that
// is 0, and waits until /readyz answers.
func startServer(ctx context.Context, bin, cfgPath, dir string, pprofPort int, serverEnv string) (*serverProc, error) {
	args := []string{bin, "--config", cfgPath, "serve"}
	if pprofPort != 0 {
		args = append(args, "--pprof-addr", fmt.Sprintf("127.0.0.1:%d", pprofPort))
	}
	if ts, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{ts, "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	env := []string{"GOMAXPROCS=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CITIZENID_") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, strings.Fields(serverEnv)...)
	logPath := filepath.Join(dir, "server.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &serverProc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); lf.Close(); close(s.done) }()
	cfg, _ := config.Load(cfgPath, func(string) string { return "" })
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Server.Issuer+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("server exited: %s", s.tail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("server not ready after 60s: %s", s.tail())
		}
	}
}

func (s *serverProc) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop asks the server to end, and kills it after 10 s.
func (s *serverProc) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// embeddedRedisAddr finds the in-process Redis of the server: the one
// loopback TCP port it listens on besides its HTTP and pprof ports.
func embeddedRedisAddr(pid int, known ...int) (string, error) {
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return "", err
	}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[3] != "0A" || !inodes[fs[9]] { // 0A: LISTEN
			continue
		}
		var port int
		if _, err := fmt.Sscanf(fs[1][strings.IndexByte(fs[1], ':')+1:], "%X", &port); err != nil {
			continue
		}
		isKnown := false
		for _, k := range known {
			isKnown = isKnown || k == port
		}
		if !isKnown {
			return fmt.Sprintf("127.0.0.1:%d", port), nil
		}
	}
	return "", errors.New("no other listening socket")
}
