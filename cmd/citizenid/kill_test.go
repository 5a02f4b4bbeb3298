package main

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/testenv"
)

// TestMain lets the test binary be citizenid itself (for tests that run
// and kill real server processes), and stops the throwaway servers.
func TestMain(m *testing.M) {
	if os.Getenv("CITIZENID_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	testenv.Main(m)
}

// Two server processes on one PostgreSQL and Redis, under a login load:
// kill -9 of one leaves the other serving every login, and the killed
// node restarts cleanly and serves again.
func TestKillNineUnderLoad(t *testing.T) {
	c := newCLI(t)
	addrA, addrB := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	conf := cheapConfig + fmt.Sprintf(`dev: true
server: {issuer: "http://%s"}
database: {url: %q}
redis: {url: %q}
keys: {master_key: %q}
tokens: {pairwise_secret: %q}
`, addrA, testenv.PostgresURL(t), testenv.RedisURL(t), strings.Repeat("7e", 32), strings.Repeat("s", 32))
	if err := os.WriteFile(c.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(anPassword+"\n", "citizen", "add", "--number", anNumber, "--name", anName, "--birthdate", "1999-01-02", "--password-stdin")
	c.ok("", "client", "add", "--id", "portal", "--name", "Portal", "--redirect-uri", "http://127.0.0.1:9/cb")

	node := func(addr string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "--config", c.config, "--data-dir", filepath.Join(c.dataDir, addr), "serve", "--addr", addr)
		cmd.Env = append(os.Environ(), "CITIZENID_TEST_RUN_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s not ready within 30 s", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a := node(addrA)
	node(addrB)

	// login runs a whole password login on the node and reports success.
	actionRE := regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	login := func(addr string) bool {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Host == "127.0.0.1:9" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		q := url.Values{"client_id": {"portal"}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		resp, err := hc.Get("http://" + addr + "/authorize?" + q.Encode())
		if err != nil {
			return false
		}
		body := make([]byte, 64<<10)
		n, _ := resp.Body.Read(body)
		resp.Body.Close()
		m := actionRE.FindSubmatch(body[:n])
		if m == nil {
			return false
		}
		form := url.Values{"number": {anNumber}, "password": {anPassword}}
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+string(m[1]), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://"+addr)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err = hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return strings.Contains(resp.Header.Get("Location"), "code=")
	}

	// Load on node B the whole time.
	var okB, failB atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 10000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if login(addrB) {
				okB.Add(1)
			} else {
				failB.Add(1)
			}
		}
	})
	for range 3 {
		if !login(addrA) {
			t.Fatal("a login on node A before the kill failed")
		}
	}
	if err := a.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	a.Wait()
	before := okB.Load()
	time.Sleep(1500 * time.Millisecond)
	if okB.Load() == before {
		t.Error("node B served no login after node A was killed")
	}
	node(addrA) // restarts cleanly
	for range 3 {
		if !login(addrA) {
			t.Error("a login on the restarted node A failed")
		}
	}
	close(stop)
	wg.Wait()
	if failB.Load() != 0 {
		t.Errorf("node B: %d of %d logins failed around the kill", failB.Load(), failB.Load()+okB.Load())
	}
	t.Logf("node B served %d logins while node A was killed and restarted", okB.Load())
}
