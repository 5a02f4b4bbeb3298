package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestPostgresURL(t *testing.T) {
	a, b := PostgresURL(t), PostgresURL(t)
	if a == b {
		t.Fatalf("two calls: got the same URL %s, want distinct databases", a)
	}
	for _, u := range []string{a, b} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			cancel()
			t.Fatalf("connect %s: %v", u, err)
		}
		var tables int
		err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables)
		conn.Close(ctx)
		cancel()
		if err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Errorf("tables in a fresh database: got %d, want 0", tables)
		}
	}
}

func TestRedisURL(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		u := RedisURL(t)
		if seen[u] {
			t.Errorf("URL %s returned twice in a row", u)
		}
		seen[u] = true
		p, err := url.Parse(u)
		if err != nil {
			t.Fatalf("parse %s: %v", u, err)
		}
		c, err := net.DialTimeout("tcp", p.Host, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", p.Host, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		db := strings.TrimPrefix(p.Path, "/")
		fmt.Fprintf(c, "SELECT %s\r\nPING\r\n", db)
		r := bufio.NewReader(c)
		for _, want := range []string{"+OK", "+PONG"} {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := strings.TrimSpace(line); got != want {
				t.Errorf("reply: got %q, want %q", got, want)
			}
		}
		c.Close()
	}
}

// A leased database is held by one live test and empty when leased; a
// lease while all 16 are held fails, and a test's end frees its leases.
func TestRedisDatabaseLeases(t *testing.T) {
	p, _ := url.Parse(RedisURL(t)) // this test holds one
	inline := func(t *testing.T, db int, cmd string) string {
		t.Helper()
		c, err := net.DialTimeout("tcp", p.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "SELECT %d\r\n%s\r\n", db, cmd)
		r := bufio.NewReader(c)
		r.ReadString('\n') // SELECT's +OK
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(line)
	}
	var held []int
	t.Run("all", func(t *testing.T) {
		for range 16 {
			n, err := leaseDB(t)
			if err != nil {
				if len(held) != 15 || !strings.Contains(err.Error(), "held by live tests") {
					t.Fatalf("lease %d: %v, want the 16th lease (with the test's own) refused", len(held)+1, err)
				}
				return
			}
			if slices.Contains(held, n) {
				t.Fatalf("database %d leased twice", n)
			}
			held = append(held, n)
			inline(t, n, "SET left behind")
		}
		t.Fatal("16 leases besides the test's own, want 15")
	})
	n, err := leaseDB(t)
	if err != nil {
		t.Fatalf("after the subtest ended: %v, want its leases free", err)
	}
	if got := inline(t, n, "DBSIZE"); got != ":0" {
		t.Errorf("database %d when leased again: DBSIZE %s, want empty", n, got)
	}
}

// A server on the port is taken for the one started only if it is that
// process: another test process's redis-server is refused.
func TestRedisOwnChecksTheProcess(t *testing.T) {
	dir := t.TempDir()
	n := startRedisNode(t, dir)
	if err := redisOwn(n.Addr, n.srv.cmd.Process.Pid); err != nil {
		t.Errorf("the node started: %v", err)
	}
	if err := redisOwn(n.Addr, n.srv.cmd.Process.Pid+1); err == nil || !strings.Contains(err.Error(), "not the redis-server started") {
		t.Errorf("another process's server: got %v, want it refused", err)
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		dir  string
		want int
	}{
		{"/usr/lib/postgresql/15/bin", 15},
		{"/usr/lib/postgresql/9.6/bin", 9},
		{"/usr/lib/postgresql/x/bin", 0},
	}
	for _, tt := range tests {
		if got := versionOf(tt.dir); got != tt.want {
			t.Errorf("versionOf(%q): got %d, want %d", tt.dir, got, tt.want)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"postgresql://h/", "postgresql://h/x"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=x"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.in, "x")
		if err != nil {
			t.Fatalf("withDatabase(%q): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("withDatabase(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPostgresURLParallel: parallel tests each get their own database.
func TestPostgresURLParallel(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			u := PostgresURL(t)
			mu.Lock()
			defer mu.Unlock()
			if seen[u] {
				t.Errorf("URL %s handed out twice", u)
			}
			seen[u] = true
		})
	}
}
