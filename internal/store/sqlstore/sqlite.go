package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/citizenid/citizenid/internal/store"
)

// busyTimeout is how long a statement waits for another connection's (or
// process's) write lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the SQLite database at path, a
// plain file name. It does not migrate; call Migrate.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite: %q is not a plain file name", path)
	}
	// journal_mode is not in the DSN: WAL is a property of the file, set
	// once below, and switching to it needs an exclusive lock for which
	// SQLite does not wait, so it must be retried by hand. temp_store=2
	// keeps temporary files in memory: each savepoint of a group commit
	// otherwise opens and writes a statement journal file once the
	// batch's journal outgrows 64 KiB. cache_size is each connection's
	// page cache (sqliteCacheKiB).
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1&_txlock=immediate&_pragma=temp_store(2)&_pragma=cache_size(-%d)",
		path, busyTimeout.Milliseconds(), sqliteCacheKiB)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteConnections())
	db.SetMaxIdleConns(sqliteConnections()) // kept, never closed and opened again
	if err := setWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &Store{db: db, d: sqliteDialect(path)}, nil
}

// sqliteConnections is how many connections a SQLite store keeps. Each
// holds its own page cache (sqliteCacheKiB), schema and prepared
// statements in memory outside Go's heap; without a limit the server had
// eight of them after a load. Writers share one (the group commit);
// readers need hardly more than the CPUs that run them.
func sqliteConnections() int { return max(4, runtime.GOMAXPROCS(0)+2) }

// sqliteCacheKiB is each connection's page cache, in KiB, instead of
// SQLite's 2,000. In WAL mode a connection empties its cache whenever
// another connection committed since its last read, so under the
// server's writes (sessions' marks, tokens, audit) a large cache is
// refilled more than it is read, while it stays resident in modernc's C
// heap, outside Go's, once filled. 512 KiB (128 pages) still holds the
// root and inner pages of the indexes a request walks.
const sqliteCacheKiB = 512

func sqliteDialect(path string) *dialect {
	d := &dialect{
		name: "sqlite",
		// No row locks: writers are serialised instead.
		replace: strings.NewReplacer(" FOR UPDATE SKIP LOCKED", "", " FOR NO KEY UPDATE", "", " FOR UPDATE", ""),
		writeMu: new(sync.Mutex),
		group:   new(group),
		prepare: true,
		encList: func(l []string) any {
			if len(l) == 0 {
				return "[]"
			}
			b, _ := json.Marshal(l) // []string always marshals
			return string(b)
		},
		scanList: func(l *[]string) sql.Scanner { return (*jsonList)(l) },
		encTime:  func(t time.Time) any { return t.Format(sqliteTimeLayout) },
		errKind: func(err error) error {
			var se *sqlite.Error
			if errors.As(err, &se) {
				switch se.Code() {
				case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
					return store.ErrConflict
				case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
					return store.ErrNotFound
				}
			}
			return nil
		},
	}
	d.migrate = func(ctx context.Context, s *Store) error { return migrateSQLite(ctx, s, path) }
	return d
}

// jsonList scans a list that SQLite keeps as JSON text.
type jsonList []string

func (l *jsonList) Scan(src any) error {
	s, err := text(src)
	if err == nil {
		*l = nil
		err = json.Unmarshal([]byte(s), (*[]string)(l))
	}
	if err != nil {
		return fmt.Errorf("parse stored list: %w", err)
	}
	if len(*l) == 0 {
		*l = nil
	}
	return nil
}

// setWAL switches the database file to WAL mode, retrying while another
// connection (or process) holds a lock that prevents the switch.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("set WAL journal mode: got mode %q", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("set WAL journal mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set WAL journal mode: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // primary result code
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// migrateSQLite applies migrations/sqlite. Several processes (or Store
// values) may call it at once on one file: they take turns under a file
// lock, and all but the first find nothing to do.
func migrateSQLite(ctx context.Context, s *Store, path string) error {
	unlock, err := lockFile(ctx, path+".migrate-lock")
	if err != nil {
		return err
	}
	defer unlock()
	s.d.writeMu.Lock()
	defer s.d.writeMu.Unlock()
	return s.gooseUp(ctx, goose.DialectSQLite3)
}
