package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Time bounds. Every wait in this package has one.
const (
	startTimeout = 30 * time.Second // a server accepts connections
	initTimeout  = 60 * time.Second // initdb finishes
	stopTimeout  = 10 * time.Second // a server exits after the polite signal
)

// Main runs the tests, stops every server this process started, removes
// their directories and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	stopAll()
	os.Exit(code)
}

// unavailable ends t when a server is missing: a failure under CI=true, a
// skip otherwise.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: %s is required under CI=true but unavailable: %v", what, err)
	}
	t.Skipf("testenv: skipping, %s unavailable: %v", what, err)
}

// server is a child process this package started.
type server struct {
	name string
	cmd  *exec.Cmd
	dir  string        // removed after the process exits
	done chan struct{} // closed when the process has exited
	log  string        // file holding the process's output

	stopOnce sync.Once
}

var (
	serversMu sync.Mutex
	servers   []*server
	stopped   bool
)

// start starts cmd in its own process group. The child is started from a
// goroutine locked to its OS thread for the child's whole life: on Linux
// the child gets SIGKILL if that thread ends (Pdeathsig), which must happen
// only when this process dies, never because the Go scheduler retired a
// thread.
func start(name, dir, logPath string, cmd *exec.Cmd) (*server, error) {
	serversMu.Lock()
	defer serversMu.Unlock()
	if stopped {
		return nil, errors.New("testenv: servers already stopped (called after Main's m.Run returned)")
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcAttr(cmd, true)
	s := &server{name: name, cmd: cmd, dir: dir, done: make(chan struct{}), log: logPath}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		logFile.Close()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	servers = append(servers, s)
	return s, nil
}

// exited reports whether the server's process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// logTail returns the end of the server's output, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop asks the server's process group to shut down, kills it if it does
// not within stopTimeout, and removes its directory.
func (s *server) stop() { s.stopOnce.Do(s.doStop) }

func (s *server) doStop() {
	if !s.exited() {
		signalGroup(s.cmd, interruptSignal)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			signalGroup(s.cmd, killSignal)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
			}
		}
	}
	// Children (PostgreSQL backends) may outlive the leader by a moment.
	signalGroup(s.cmd, killSignal)
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func stopAll() {
	serversMu.Lock()
	stopped = true
	list := servers
	servers = nil
	serversMu.Unlock()
	var wg sync.WaitGroup
	for _, s := range list {
		wg.Go(s.stop)
	}
	wg.Wait()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls ready until it succeeds, the server exits or startTimeout
// passes.
func waitReady(s *server, ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if s.exited() {
			return fmt.Errorf("%s exited during start-up: %s", s.name, s.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v; log: %s", s.name, startTimeout, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
