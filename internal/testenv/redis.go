package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RedisURL returns a redis:// URL for t: CITIZENID_TEST_REDIS_URL unchanged
// if set, else a throwaway redis-server started once per test process on a
// free loopback port (no persistence). A missing server skips t, or fails it
// under CI=true.
//
// Isolation on the throwaway server is by logical database: each call
// leases one of its 16 (redis://127.0.0.1:PORT/N), emptied, that no other
// live test holds, until t ends; successive calls get different ones. A
// 17th lease while 16 tests hold one fails t. The external server gets no
// such help: tests that share it must use unique key prefixes.
func RedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("CITIZENID_TEST_REDIS_URL"); u != "" {
		return u
	}
	redisOnce.Do(func() { redisAddr, redisErr = startRedis() })
	if redisErr != nil {
		unavailable(t, "Redis", redisErr)
	}
	n, err := leaseDB(t)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("redis://%s/%d", redisAddr, n)
}

var (
	redisOnce sync.Once
	redisAddr string
	redisErr  error

	dbMu     sync.Mutex
	dbLeased [16]bool
	dbNext   int // where the search for a free database starts
)

// leaseDB gives t a logical database of the throwaway server that no
// other live test holds, emptied, until t ends.
func leaseDB(t testing.TB) (int, error) {
	dbMu.Lock()
	n := -1
	for i := range len(dbLeased) {
		if c := (dbNext + i) % len(dbLeased); !dbLeased[c] {
			n = c
			break
		}
	}
	if n < 0 {
		dbMu.Unlock()
		return 0, fmt.Errorf("testenv: all %d Redis databases are held by live tests", len(dbLeased))
	}
	dbLeased[n], dbNext = true, n+1
	dbMu.Unlock()
	t.Cleanup(func() {
		dbMu.Lock()
		defer dbMu.Unlock()
		dbLeased[n] = false
	})
	return n, redisFlush(redisAddr, n)
}

// redisFlush empties logical database n of the server at addr.
func redisFlush(addr string, n int) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "SELECT %d\r\nFLUSHDB\r\n", n); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for _, cmd := range []string{"SELECT", "FLUSHDB"} {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%s %d: %w", cmd, n, err)
		}
		if strings.TrimSpace(line) != "+OK" {
			return fmt.Errorf("%s %d answered %q", cmd, n, strings.TrimSpace(line))
		}
	}
	return nil
}

func startRedis() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server not found in PATH")
	}
	dir, err := os.MkdirTemp("", "citizenid-redis-")
	if err != nil {
		return "", fmt.Errorf("make redis directory: %w", err)
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--databases", "16")
		cmd.Dir = dir
		srv, err := start("redis-server", "", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)), cmd)
		if err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		err = waitReady(srv, func() error { return redisOwn(addr, srv.cmd.Process.Pid) })
		if err == nil {
			srv.dir = dir
			return addr, nil
		}
		lastErr = err
		srv.stop()
	}
	os.RemoveAll(dir)
	return "", lastErr
}

// redisOwn asks addr for INFO server in the inline protocol and checks
// that the process answering is pid: a redis-server that could not bind
// its port exits, and until then the PING of another process's server on
// that port would pass for ours, and two test processes would share (and
// flush) one server.
func redisOwn(addr string, pid int) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(head), "$"))
	if !strings.HasPrefix(head, "$") || err != nil {
		return fmt.Errorf("INFO answered %q", strings.TrimSpace(head))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if v != strconv.Itoa(pid) {
				return fmt.Errorf("%s is served by process %s, not the redis-server started (%d)", addr, v, pid)
			}
			return nil
		}
	}
	return errors.New("INFO server names no process_id")
}
