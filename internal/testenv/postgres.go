package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL returns the URL of a fresh, empty database created for t, on
// the server at CITIZENID_TEST_DATABASE_URL if set, else on a throwaway
// server started once per test process. The database is dropped when t
// ends. A missing server skips t, or fails it under CI=true.
//
// The throwaway server runs initdb and postgres (from
// /usr/lib/postgresql/*/bin or PATH) as the postgres OS user when the tests
// run as root, in a temporary directory, with trust authentication, on a
// free loopback port, and with fsync off: its data is worthless by design.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, err := postgresAdminURL()
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	name, dbURL, err := createDatabase(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		if err := dropDatabase(ctx, admin, name); err != nil {
			t.Logf("testenv: %v", err)
		}
	})
	return dbURL
}

var (
	pgOnce     sync.Once
	pgAdminURL string
	pgErr      error
	dbCounter  atomic.Int64
)

// postgresAdminURL returns a URL to a database on the server that may
// create databases.
func postgresAdminURL() (string, error) {
	pgOnce.Do(func() {
		if u := os.Getenv("CITIZENID_TEST_DATABASE_URL"); u != "" {
			pgAdminURL = u
			return
		}
		pgAdminURL, pgErr = startPostgres()
	})
	return pgAdminURL, pgErr
}

func createDatabase(ctx context.Context, adminURL string) (name, dbURL string, err error) {
	var b [4]byte
	rand.Read(b[:])
	name = fmt.Sprintf("citizenid_test_%d_%d_%s", os.Getpid(), dbCounter.Add(1), hex.EncodeToString(b[:]))
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", "", fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	dbURL, err = withDatabase(adminURL, name)
	if err != nil {
		return "", "", err
	}
	return name, dbURL, nil
}

func dropDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns connection string u pointing at database name. u is
// a postgres:// URL or a key=value string.
func withDatabase(u, name string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		p, err := url.Parse(u)
		if err != nil {
			return "", fmt.Errorf("parse database url: %w", err)
		}
		p.Path = "/" + name
		p.RawPath = ""
		return p.String(), nil
	}
	return u + " dbname=" + name, nil // a later key wins
}

// postgresBin returns the directory holding initdb and postgres.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first; numeric order, so 9.6 < 10.
	slices.SortFunc(dirs, func(a, b string) int {
		va, vb := versionOf(a), versionOf(b)
		if va != vb {
			return vb - va
		}
		return strings.Compare(b, a)
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin or PATH")
	}
	d := filepath.Dir(initdb)
	if !isExec(filepath.Join(d, "postgres")) {
		return "", fmt.Errorf("postgres not found next to %s", initdb)
	}
	return d, nil
}

func versionOf(binDir string) int {
	v := filepath.Base(filepath.Dir(binDir))
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// startPostgres initialises a cluster in a temporary directory, starts it
// and returns the URL of its postgres database.
func startPostgres() (string, error) {
	bin, err := postgresBin()
	if err != nil {
		return "", err
	}
	// initdb and postgres refuse to run as root: run them as postgres, in a
	// directory that user owns, under /tmp which every user can reach.
	uid, gid, err := runAs(nil, "postgres")
	if err != nil {
		return "", fmt.Errorf("running as root, but no postgres user to run the server as: %w", err)
	}
	parent := ""
	if uid >= 0 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "citizenid-pg-")
	if err != nil {
		return "", fmt.Errorf("make postgres directory: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return "", fmt.Errorf("chown postgres directory: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C", "HOME=" + dir, "TZ=UTC"}

	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "--auth=trust",
		"--username=postgres", "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.Env = env
	if _, _, err := runAs(initdb, "postgres"); err != nil {
		cleanup()
		return "", err
	}
	setProcAttr(initdb, false)
	initdb.WaitDelay = time.Second
	if out, err := initdb.CombinedOutput(); err != nil {
		cleanup()
		return "", fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}

	// A port found free may be taken before postgres binds it; try again.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			cleanup()
			return "", err
		}
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
			"-h", "127.0.0.1", "-p", fmt.Sprint(port), "-k", dir,
			"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
			"-c", "max_connections=300", "-c", "shared_buffers=32MB",
			"-c", "logging_collector=off", "-c", "log_min_messages=warning")
		cmd.Dir = dir
		cmd.Env = env
		if _, _, err := runAs(cmd, "postgres"); err != nil {
			cleanup()
			return "", err
		}
		srv, err := start("postgres", "", filepath.Join(dir, fmt.Sprintf("postgres-%d.log", port)), cmd)
		if err != nil {
			cleanup()
			return "", err
		}
		adminURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", port)
		err = waitReady(srv, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, adminURL)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			// Ours, not another test process's server on the port ours
			// could not bind (redisOwn says why that matters).
			var dataDir string
			if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
				return err
			}
			if dataDir != data {
				return fmt.Errorf("port %d is served by the cluster in %s, not %s", port, dataDir, data)
			}
			return nil
		})
		if err == nil {
			srv.dir = dir // removed once the server has stopped
			return adminURL, nil
		}
		lastErr = err
		srv.stop()
	}
	cleanup()
	return "", lastErr
}
