package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/demo"
)

// cheapConfig keeps argon2id real but cheap, and the logs quiet.
const cheapConfig = "password: {memory_kib: 8192, time: 1, threads: 1}\nlog: {level: warn}\n"

const (
	anNumber   = "001099012345"
	anName     = "Nguyễn Văn An"
	anPassword = "mật khẩu rất dài 2024"
)

// cleanEnv hides every CITIZENID_* variable of the surrounding environment,
// so that only what a test sets reaches the configuration.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, n := range append(config.EnvVars(), "CITIZENID_CONFIG") {
		t.Setenv(n, "")
	}
}

// cli runs citizenid commands in-process against one data dir and one
// configuration file, as an operator would from a shell.
type cli struct {
	t       *testing.T
	dataDir string
	config  string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	cleanEnv(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "citizenid.yaml")
	if err := os.WriteFile(cfg, []byte(cheapConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, dataDir: filepath.Join(dir, "data"), config: cfg}
}

// in returns c reporting to t, for use inside a subtest.
func (c *cli) in(t *testing.T) *cli {
	cc := *c
	cc.t = t
	return &cc
}

// execute runs the command line args (never os.Args) with stdin.
func execute(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	root := newRoot(strings.NewReader(stdin), &out, &errb)
	root.SetArgs(append([]string{}, args...))
	err = root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

// run runs a command with this CLI's --config and --data-dir.
func (c *cli) run(stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	return execute(c.t.Context(), stdin, append([]string{"--config", c.config, "--data-dir", c.dataDir}, args...)...)
}

// ok runs a command that must succeed and returns its standard output.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("citizenid %s: got error %v (stderr %q), want success", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fails runs a command that must fail with an error containing want.
func (c *cli) fails(stdin, want string, args ...string) {
	c.t.Helper()
	out, _, err := c.run(stdin, args...)
	if err == nil {
		c.t.Fatalf("citizenid %s: got success (stdout %q), want an error containing %q", strings.Join(args, " "), out, want)
	}
	if !strings.Contains(err.Error(), want) {
		c.t.Errorf("citizenid %s: got error %q, want it to contain %q", strings.Join(args, " "), err, want)
	}
}

// list runs a listing command and parses its table.
func (c *cli) list(args ...string) []map[string]string {
	c.t.Helper()
	return parseTable(c.t, c.ok("", args...))
}

var columnSep = regexp.MustCompile(`\s{2,}`)

// parseTable parses tabwriter output (columns at least two spaces apart,
// cells without double spaces) into one map per row, keyed by header.
func parseTable(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := columnSep.Split(strings.TrimSpace(lines[0]), -1)
	var rows []map[string]string
	for _, l := range lines[1:] {
		cells := columnSep.Split(strings.TrimSpace(l), -1)
		if len(cells) != len(header) {
			t.Fatalf("row %q: got %d cells, want %d (%v)", l, len(cells), len(header), header)
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = cells[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// find returns the rows whose column col is val.
func find(rows []map[string]string, col, val string) []map[string]string {
	var out []map[string]string
	for _, r := range rows {
		if r[col] == val {
			out = append(out, r)
		}
	}
	return out
}

func addArgs(number, birthdate string) []string {
	return []string{"citizen", "add", "--number", number, "--name", anName, "--birthdate", birthdate, "--password-stdin"}
}

func TestVersion(t *testing.T) {
	cleanEnv(t)
	out, _, err := execute(t.Context(), "", "version")
	if err != nil {
		t.Fatalf("version: got error %v, want success", err)
	}
	if !strings.HasPrefix(out, "citizenid ") {
		t.Errorf("version: got %q, want it to start with %q", out, "citizenid ")
	}
}

func TestConfigEnv(t *testing.T) {
	cleanEnv(t)
	out, _, err := execute(t.Context(), "", "config", "env")
	if err != nil {
		t.Fatalf("config env: got error %v, want success", err)
	}
	for _, n := range []string{"CITIZENID_DATA_DIR", "CITIZENID_ISSUER", "CITIZENID_DATABASE_URL"} {
		if !strings.Contains(out, n+"\n") {
			t.Errorf("config env: got %q, want it to list %s", out, n)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	c := newCLI(t)
	for i := range 2 {
		if out := c.ok("", "migrate"); !strings.Contains(out, "migrations applied") {
			t.Errorf("migrate #%d: got %q, want %q", i+1, out, "migrations applied")
		}
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "citizenid.db")); err != nil {
		t.Errorf("migrate: got %v, want the SQLite file in the data dir", err)
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // empty: valid
	}{
		{name: "valid", yaml: cheapConfig},
		{
			name: "unknown key and bad value",
			yaml: "bogus_key: 1\npassword:\n  time: many\n",
			want: []string{"bogus_key", "line 1", "many", "line 3"},
		},
		{
			name: "invalid values",
			yaml: "log: {level: loud}\npassword: {memory_kib: 1024}\nserver: {issuer: ftp://example.vn}\n",
			want: []string{"configuration is not valid", "log.level \"loud\"", "memory_kib", "server.issuer \"ftp://example.vn\""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			if err := os.WriteFile(c.config, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := c.run("", "config", "check")
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("config check: got error %v, want success", err)
				}
				if !strings.Contains(out, "configuration is valid") {
					t.Errorf("config check: got %q, want %q", out, "configuration is valid")
				}
				return
			}
			if err == nil {
				t.Fatalf("config check: got success (%q), want an error", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("config check: got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestCitizenAdd(t *testing.T) {
	c := newCLI(t)
	out := c.ok(anPassword+"\n", addArgs(anNumber, "1999-01-02")...)
	if want := "created citizen " + anNumber; !strings.Contains(out, want) {
		t.Errorf("citizen add: got %q, want %q", out, want)
	}
	rows := c.list("citizen", "list")
	if len(rows) != 1 {
		t.Fatalf("citizen list: got %d rows, want 1: %v", len(rows), rows)
	}
	want := map[string]string{"NUMBER": anNumber, "NAME": anName, "IDENTITY LEVEL": "1", "STATUS": "active"}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("citizen list %s: got %q, want %q", k, rows[0][k], v)
		}
	}

	t.Run("again", func(t *testing.T) {
		c.in(t).fails(anPassword+"\n", "already exists", addArgs(anNumber, "1999-01-02")...)
	})

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"11 digits", anPassword, addArgs("00109901234", "1999-01-02"), "12 digits"},
		{"letters", anPassword, addArgs("00109901234a", "1999-01-02"), "12 digits"},
		{"bad birthdate", anPassword, addArgs("001099000001", "1999-13-02"), "birthdate"},
		{"future birthdate", anPassword, addArgs("001099000002", "2999-01-02"), "birthdate"},
		{"common password", "password\n", addArgs("001099000003", "1999-01-02"), "common"},
		{"common digits", "12345678\n", addArgs("001099000004", "1999-01-02"), "common"},
		{"short password", "ngắn\n", addArgs("001099000005", "1999-01-02"), "password"},
		{"no --password-stdin", anPassword, addArgs("001099000006", "1999-01-02")[:8], "--password-stdin"},
		{"empty stdin", "", addArgs("001099000007", "1999-01-02"), "nothing was read"},
		{"empty line", "\n", addArgs("001099000008", "1999-01-02"), "nothing was read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := c.in(t)
			c.fails(tt.stdin, tt.want, tt.args...)
			if rows := c.list("citizen", "list"); len(rows) != 1 {
				t.Errorf("citizen list after a refused add: got %d rows, want 1: %v", len(rows), rows)
			}
		})
	}
}

func TestCitizenDisableEnable(t *testing.T) {
	c := newCLI(t)
	c.ok(anPassword, addArgs(anNumber, "1999-01-02")...)
	status := func() string {
		t.Helper()
		rows := find(c.list("citizen", "list"), "NUMBER", anNumber)
		if len(rows) != 1 {
			t.Fatalf("citizen list: got %d rows for %s, want 1", len(rows), anNumber)
		}
		return rows[0]["STATUS"]
	}
	steps := []struct {
		cmd, want string
	}{
		{"disable", "disabled"},
		{"disable", "disabled"},
		{"enable", "active"},
	}
	for _, s := range steps {
		out := c.ok("", "citizen", s.cmd, anNumber)
		if want := anNumber + ": " + s.cmd; !strings.Contains(out, want) {
			t.Errorf("citizen %s: got %q, want %q", s.cmd, out, want)
		}
		if got := status(); got != s.want {
			t.Errorf("status after citizen %s: got %q, want %q", s.cmd, got, s.want)
		}
	}
	for _, cmd := range []string{"disable", "enable"} {
		c.fails("", "no citizen with number 001099099999", "citizen", cmd, "001099099999")
	}
}

var secretLine = regexp.MustCompile(`(?m)^client secret.*: (\S+)$`)

func TestClient(t *testing.T) {
	c := newCLI(t)
	add := func(id string, extra ...string) []string {
		return append([]string{"client", "add", "--id", id, "--name", "Cổng thuế"}, extra...)
	}
	const uri = "https://thue.example.vn/cb"

	out := c.ok("", add("tax-portal", "--redirect-uri", uri)...)
	if n := strings.Count(out, "client secret"); n != 1 {
		t.Fatalf("client add: got %d lines with a client secret in %q, want 1", n, out)
	}
	m := secretLine.FindStringSubmatch(out)
	if m == nil || len(m[1]) < 32 {
		t.Fatalf("client add: got %q, want a generated secret of at least 32 characters", out)
	}
	generated := m[1]

	own := strings.Repeat("0123456789", 4)
	out = c.ok(own+"\n", add("land-portal", "--redirect-uri", "https://datdai.example.vn/cb", "--secret-stdin")...)
	if strings.Contains(out, "client secret") || strings.Contains(out, own) {
		t.Errorf("client add --secret-stdin: got %q, want no secret printed", out)
	}
	out = c.ok("", add("vneid-app", "--redirect-uri", "vn.gov.vneid:/cb", "--public")...)
	if strings.Contains(out, "client secret") {
		t.Errorf("client add --public: got %q, want no secret printed", out)
	}

	refused := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"short secret", strings.Repeat("x", 31), add("short", "--redirect-uri", uri, "--secret-stdin"), "at least 32"},
		{"empty secret", "", add("empty", "--redirect-uri", uri, "--secret-stdin"), "nothing was read"},
		{"secret longer than stdin takes", strings.Repeat("s", 5000), add("long", "--redirect-uri", uri, "--secret-stdin"), "longer than"},
		{"secret and public", own, add("both", "--redirect-uri", uri, "--secret-stdin", "--public"), "exclude"},
		{"http not loopback", "", add("http", "--redirect-uri", "http://thue.example.vn/cb"), "loopback"},
		{"wildcard", "", add("wild", "--redirect-uri", "https://*.example.vn/cb"), "wildcard"},
		{"fragment", "", add("frag", "--redirect-uri", "https://thue.example.vn/cb#x"), "fragment"},
		{"relative", "", add("rel", "--redirect-uri", "/cb"), "absolute"},
		{"no redirect uri", "", add("none"), "redirect URI"},
		{"custom scheme confidential", "", add("custom", "--redirect-uri", "vn.gov.vneid:/cb"), "public"},
		{"same id", "", add("tax-portal", "--redirect-uri", uri), "already exists"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c.in(t).fails(tt.stdin, tt.want, tt.args...)
		})
	}

	rows := c.list("client", "list")
	if len(rows) != 3 {
		t.Fatalf("client list: got %d rows, want 3: %v", len(rows), rows)
	}
	wantRows := []struct{ id, typ, uri string }{
		{"tax-portal", "confidential", uri},
		{"land-portal", "confidential", "https://datdai.example.vn/cb"},
		{"vneid-app", "public", "vn.gov.vneid:/cb"},
	}
	for _, w := range wantRows {
		r := find(rows, "ID", w.id)
		if len(r) != 1 {
			t.Errorf("client list: got %d rows for %s, want 1", len(r), w.id)
			continue
		}
		if r[0]["TYPE"] != w.typ || r[0]["REDIRECT URIS"] != w.uri || r[0]["NAME"] != "Cổng thuế" {
			t.Errorf("client list %s: got %v, want type %s, redirect %s, name Cổng thuế", w.id, r[0], w.typ, w.uri)
		}
	}
	if out := c.ok("", "client", "list"); strings.Contains(out, generated) {
		t.Errorf("client list: got %q, want no secret", out)
	}

	if out := c.ok("", "client", "remove", "tax-portal"); !strings.Contains(out, "removed client tax-portal") {
		t.Errorf("client remove: got %q, want %q", out, "removed client tax-portal")
	}
	c.fails("", `no client "tax-portal"`, "client", "remove", "tax-portal")
	if rows := c.list("client", "list"); len(find(rows, "ID", "tax-portal")) != 0 || len(rows) != 2 {
		t.Errorf("client list after remove: got %v, want land-portal and vneid-app only", rows)
	}
}

var rotatedKID = regexp.MustCompile(`active signing key is now (\S+)`)

func TestKeysRotate(t *testing.T) {
	c := newCLI(t)
	c.ok("", "migrate")
	states := func() (byState map[string][]string) {
		t.Helper()
		byState = map[string][]string{}
		for _, r := range c.list("keys", "list") {
			if r["ALG"] != "RS256" {
				t.Errorf("keys list: got alg %q for %s, want RS256", r["ALG"], r["KID"])
			}
			byState[r["STATE"]] = append(byState[r["STATE"]], r["KID"])
		}
		return byState
	}
	rotate := func() string {
		t.Helper()
		out := c.ok("", "keys", "rotate")
		m := rotatedKID.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("keys rotate: got %q, want the new active kid", out)
		}
		return m[1]
	}

	first := rotate()
	s := states()
	if len(s["active"]) != 1 || s["active"][0] != first {
		t.Errorf("after first rotate: got active %v, want [%s]", s["active"], first)
	}
	if len(s["next"]) != 1 || len(s["retired"]) != 1 {
		t.Errorf("after first rotate: got %v, want one next and one retired key", s)
	}
	published := s["next"]

	second := rotate()
	s = states()
	if len(s["active"]) != 1 || s["active"][0] != second {
		t.Errorf("after second rotate: got active %v, want [%s]", s["active"], second)
	}
	if len(published) == 1 && second != published[0] {
		t.Errorf("second rotate: got %s active, want the pre-published next key %s", second, published[0])
	}
	if len(s["next"]) != 1 || len(s["retired"]) != 2 || len(s) != 3 {
		t.Errorf("after second rotate: got %v, want one next and two retired keys", s)
	}
	if !strings.Contains(strings.Join(s["retired"], " "), first) {
		t.Errorf("after second rotate: got retired %v, want it to hold %s", s["retired"], first)
	}
}

func TestEnvironmentTwins(t *testing.T) {
	c := newCLI(t)
	t.Setenv("CITIZENID_DATA_DIR", c.dataDir)
	t.Setenv("CITIZENID_CONFIG", c.config)
	out, errOut, err := execute(t.Context(), anPassword, addArgs(anNumber, "1999-01-02")...)
	if err != nil {
		t.Fatalf("citizen add with CITIZENID_DATA_DIR: got error %v (stderr %q), want success", err, errOut)
	}
	if !strings.Contains(out, "created citizen") {
		t.Errorf("citizen add: got %q, want %q", out, "created citizen")
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "citizenid.db")); err != nil {
		t.Errorf("CITIZENID_DATA_DIR: got %v, want the database there", err)
	}
	t.Setenv("CITIZENID_DATA_DIR", "")
	t.Setenv("CITIZENID_CONFIG", "")
	if rows := find(c.list("citizen", "list"), "NUMBER", anNumber); len(rows) != 1 {
		t.Errorf("citizen list with --data-dir: got %d rows for %s, want 1", len(rows), anNumber)
	}

	// The flag wins over the variable.
	other := t.TempDir()
	t.Setenv("CITIZENID_DATA_DIR", other)
	if rows := find(c.list("citizen", "list"), "NUMBER", anNumber); len(rows) != 1 {
		t.Errorf("citizen list with --data-dir over CITIZENID_DATA_DIR: got %d rows for %s, want 1", len(rows), anNumber)
	}
}

// TestServeDemoOutsideDevMode: --demo is refused before anything is opened
// (the production database and Redis below do not exist).
func TestServeDemoOutsideDevMode(t *testing.T) {
	c := newCLI(t)
	prod := cheapConfig + `database: {url: "postgres://127.0.0.1:1/citizenid"}
redis: {url: "redis://127.0.0.1:1"}
keys: {master_key: "` + strings.Repeat("ab", 32) + `"}
tokens: {pairwise_secret: "` + strings.Repeat("p", 32) + `"}
server: {issuer: "https://id.example.vn"}
notifications: {email: {smtp: "smtp://127.0.0.1:1"}}
`
	if err := os.WriteFile(c.config, []byte(prod), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "config", "check")
	c.fails("", "--demo is only for the embedded default or --dev", "serve", "--addr", "127.0.0.1:"+freePort(t), "--demo")
}

// syncBuffer is a bytes.Buffer safe to write from serve's goroutine while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// browser is a citizen's browser: a cookie jar, following redirects.
type browser struct {
	t *testing.T
	c *http.Client
	// consented: the browser met a consent page (and approved it).
	consented bool
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type page struct {
	status int
	url    *url.URL
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// login submits the login form on p as a browser does (same origin), and
// approves the consent page if the portal asks for personal data.
func (b *browser) login(p page, origin, number, password string) page {
	b.t.Helper()
	p = b.submit(p, origin, url.Values{"number": {number}, "password": {password}})
	if strings.Contains(p.body, `id="consent-approve"`) {
		b.consented = true
		p = b.submit(p, origin, url.Values{"step": {"consent"}, "decision": {"approve"}})
	}
	return p
}

// submit posts form to the first form's action on p.
func (b *browser) submit(p page, origin string, form url.Values) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form at %s (status %d): %.400s", p.url, p.status, p.body)
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func isLoginForm(p page) bool {
	return strings.Contains(p.body, `autocomplete="current-password"`) && formAction.MatchString(p.body)
}

var (
	demoOpen     = regexp.MustCompile(`Open:\s+(\S+/demo/)`)
	demoPassword = regexp.MustCompile(`Password:\s+(\S+)`)
)

// TestServeWithCLI runs serve on the embedded default and the CLI next to
// it on the same data dir and configuration: "every CLI command works
// against the same config as serve, including while serve runs".
func TestServeWithCLI(t *testing.T) {
	c := newCLI(t)
	port := freePort(t)
	issuer := "http://127.0.0.1:" + port

	ctx, cancel := context.WithCancel(t.Context())
	var sout, serr syncBuffer
	done := make(chan error, 1)
	go func() {
		root := newRoot(strings.NewReader(""), &sout, &serr)
		root.SetArgs([]string{"--config", c.config, "--data-dir", c.dataDir,
			"serve", "--addr", "127.0.0.1:" + port, "--issuer", issuer, "--demo"})
		done <- root.ExecuteContext(ctx)
	}()
	stopped := false
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			stopped = true
			return err
		case <-time.After(15 * time.Second):
			return errors.New("serve did not return within 15s of cancel")
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	defer func() {
		if t.Failed() {
			t.Logf("serve stdout:\n%s\nserve stderr:\n%s", sout.String(), serr.String())
		}
	}()

	hc := &http.Client{Timeout: 5 * time.Second}
	status := func(path string) int {
		resp, err := hc.Get(issuer + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(20 * time.Second)
	for status("/healthz") != http.StatusOK || status("/readyz") != http.StatusOK {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("serve: got %v before it was ready, want it running", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("serve: /healthz and /readyz not 200 within 20s")
		}
	}

	box := sout.String()
	if !strings.Contains(box, demo.CitizenNumber) || !demoOpen.MatchString(box) {
		t.Fatalf("serve --demo stdout: got %q, want the demo box with %s and a /demo/ URL", box, demo.CitizenNumber)
	}
	if got, want := demoOpen.FindStringSubmatch(box)[1], issuer+"/demo/"; got != want {
		t.Errorf("demo box URL: got %s, want %s", got, want)
	}
	pm := demoPassword.FindStringSubmatch(box)
	if pm == nil {
		t.Fatalf("serve --demo stdout: got %q, want the demo password", box)
	}
	demoPw := pm[1]

	var disc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
	getJSON(t, hc, issuer+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != issuer {
		t.Errorf("discovery issuer: got %q, want %q", disc.Issuer, issuer)
	}

	// The CLI, on the same data dir while serve runs.
	const number = "079201000123"
	if out := c.ok(anPassword+"\n", addArgs(number, "1990-05-17")...); !strings.Contains(out, "created citizen") {
		t.Errorf("citizen add while serving: got %q, want %q", out, "created citizen")
	}
	rows := c.list("citizen", "list")
	if len(find(rows, "NUMBER", number)) != 1 || len(find(rows, "NUMBER", demo.CitizenNumber)) != 1 {
		t.Errorf("citizen list while serving: got %v, want %s and the demo citizen", rows, number)
	}
	if out := c.ok("", "client", "add", "--id", "tax-portal", "--name", "Cổng thuế", "--redirect-uri", "https://thue.example.vn/cb"); !strings.Contains(out, "client secret") {
		t.Errorf("client add while serving: got %q, want a client secret", out)
	}
	keyStates := map[string]string{}
	for _, r := range c.list("keys", "list") {
		keyStates[r["KID"]] = r["STATE"]
	}
	var jwks struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	getJSON(t, hc, disc.JWKSURI, &jwks)
	published := map[string]bool{}
	for _, k := range jwks.Keys {
		published[k.KID] = true
	}
	counts := map[string]int{}
	for kid, state := range keyStates {
		counts[state]++
		if !published[kid] {
			t.Errorf("key %s (%s) from keys list: not in the server's JWKS %v", kid, state, published)
		}
	}
	if counts["active"] != 1 || counts["next"] != 1 || len(keyStates) != 2 {
		t.Errorf("keys list while serving: got %v, want one active and one next key", keyStates)
	}

	// serve sees the client the CLI added: its authorization request
	// reaches the login form.
	q := url.Values{"client_id": {"tax-portal"}, "redirect_uri": {"https://thue.example.vn/cb"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}
	if p := newBrowser(t).get(disc.AuthorizationEndpoint + "?" + q.Encode()); !isLoginForm(p) {
		t.Errorf("authorize for the CLI's client: got status %d at %s, want the login form: %.300s", p.status, p.url, p.body)
	}

	// The demo portal's level buttons ask for the level, as a portal would.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noRedirect.Get(issuer + "/demo/login?acr=2"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "acr_values=urn%3Acitizenid%3Aloa%3A2") {
			t.Errorf("demo level-2 login: redirected to %q, want acr_values for level 2", loc)
		}
	}

	// The demo login, end to end, and the same with the citizen the CLI added.
	logins := []struct{ name, number, password string }{
		{"demo citizen", demo.CitizenNumber, demoPw},
		{"citizen added by the CLI", number, anPassword},
	}
	var cliCitizen *browser
	for _, l := range logins {
		t.Run(l.name, func(t *testing.T) {
			b := newBrowser(t)
			if l.number == number {
				cliCitizen = b
			}
			p := b.get(issuer + "/demo/login")
			if !isLoginForm(p) {
				t.Fatalf("GET /demo/login: got status %d at %s, want the login form: %.300s", p.status, p.url, p.body)
			}
			p = b.login(p, issuer, l.number, l.password)
			if p.status != http.StatusOK || !strings.Contains(p.body, "ID token claims") {
				t.Fatalf("login: got status %d at %s, want the demo page with ID token claims: %.400s", p.status, p.url, p.body)
			}
			if p.url.Path != "/demo/callback" {
				t.Errorf("login: got final URL %s, want /demo/callback", p.url)
			}
			if !b.consented {
				t.Error("login: no consent page, want the demo portal to ask for the profile")
			}
		})
	}

	// Disabling through the CLI takes effect in the running server: the
	// SSO session no longer short-cuts the login, and the password no
	// longer opens it; enabling restores the account.
	c.ok("", "citizen", "disable", number)
	if cliCitizen != nil {
		cliCitizen.t = t
		if p := cliCitizen.get(issuer + "/demo/login"); !isLoginForm(p) {
			t.Errorf("SSO session of a disabled citizen: got status %d at %s, want the login form: %.300s", p.status, p.url, p.body)
		}
	}
	b := newBrowser(t)
	if p := b.login(b.get(issuer+"/demo/login"), issuer, number, anPassword); strings.Contains(p.body, "ID token claims") {
		t.Errorf("login of a disabled citizen: got the demo page at %s, want a refusal", p.url)
	}
	c.ok("", "citizen", "enable", number)
	b = newBrowser(t)
	if p := b.login(b.get(issuer+"/demo/login"), issuer, number, anPassword); !strings.Contains(p.body, "ID token claims") {
		t.Errorf("login after citizen enable: got status %d at %s, want the demo page with ID token claims: %.300s", p.status, p.url, p.body)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve after cancel: got %v, want nil (graceful shutdown)", err)
	}
	if status("/healthz") != 0 {
		t.Errorf("after shutdown: got an answer from /healthz, want the listener closed")
	}
	if rows := c.list("citizen", "list"); len(rows) != 2 {
		t.Errorf("citizen list after serve stopped: got %d rows, want 2", len(rows))
	}
}

func getJSON(t *testing.T, hc *http.Client, u string, v any) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func TestCitizenSetIdentityLevel(t *testing.T) {
	c := newCLI(t)
	c.ok(anPassword+"\n", "citizen", "add", "--number", anNumber, "--name", anName, "--password-stdin")
	c.ok("", "citizen", "set-identity-level", anNumber, "2")
	if out := c.ok("", "citizen", "list"); !strings.Contains(out, anName) || !regexp.MustCompile(`\s2\s+active`).MatchString(out) {
		t.Errorf("list after set-identity-level 2: got %q, want level 2", out)
	}
	c.fails("", "must be 1 or 2", "citizen", "set-identity-level", anNumber, "3")
	c.fails("", "no citizen", "citizen", "set-identity-level", "001099099999", "1")
}

// audit verify walks the whole hash chain; config check reads the master
// key file; a wrong master key neither rotates keys nor lets the server
// start.
func TestAuditVerifyAndMasterKeyChecks(t *testing.T) {
	c := newCLI(t)
	// Some audited actions, more than one page of the chain is not needed.
	c.ok("", "client", "add", "--id", "tax-portal", "--name", "Thuế", "--redirect-uri", "https://thue.example.vn/cb")
	c.ok("", "client", "update", "tax-portal", "--backchannel-logout-uri", "https://thue.example.vn/bc")
	c.ok("", "keys", "rotate") // signing keys, sealed with the dev master key
	if out := c.ok("", "audit", "verify"); !strings.Contains(out, "audit chain verified") {
		t.Errorf("audit verify: got %q", out)
	}
	c.fails("", "back-channel logout URI", "client", "update", "tax-portal", "--backchannel-logout-uri", "http://thue.example.vn/bc")

	// A key file that is not a key: config check says so.
	bad := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := func(line string) {
		if err := os.WriteFile(c.config, []byte(cheapConfig+line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withKey("keys: {master_key_file: \"" + bad + "\"}\n")
	c.fails("", "keys:", "config", "check")

	// Another (valid) master key than the one the keys were sealed with.
	withKey("keys: {master_key: \"" + strings.Repeat("cd", 32) + "\"}\n")
	c.fails("", "master key", "keys", "rotate")
	c.fails("", "master key", "serve", "--addr", "127.0.0.1:"+freePort(t))
}
