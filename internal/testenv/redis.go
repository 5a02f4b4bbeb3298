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
	"sync/atomic"
	"testing"
	"time"
)

// RedisURL returns a redis:// URL for t: CITIZENID_TEST_REDIS_URL unchanged
// if set, else a throwaway redis-server started once per test process on a
// free loopback port (no persistence). A missing server skips t, or fails it
// under CI=true.
//
// Isolation on the throwaway server is by logical database: successive
// calls return redis://127.0.0.1:PORT/N with N cycling through 0..15, so up
// to 16 tests of one process can hold a database each; nothing is flushed,
// so a test that needs an empty database, or runs alongside more than 15
// others, must use its own key prefix. The external server gets no such
// help: tests that share it must use unique key prefixes.
func RedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("CITIZENID_TEST_REDIS_URL"); u != "" {
		return u
	}
	redisOnce.Do(func() { redisAddr, redisErr = startRedis() })
	if redisErr != nil {
		unavailable(t, "Redis", redisErr)
	}
	n := (redisDB.Add(1) - 1) % 16
	return fmt.Sprintf("redis://%s/%d", redisAddr, n)
}

var (
	redisOnce sync.Once
	redisAddr string
	redisErr  error
	redisDB   atomic.Int64
)

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
