package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrent writers on SQLite are committed together, each with its own
// outcome: a write that fails, panics or whose caller gave up is rolled
// back alone, and the others in its batch are committed.
func TestGroupCommit(t *testing.T) {
	s := migrated(t, openSQLite(t, filepath.Join(t.TempDir(), "g.db")))
	g := s.d.group
	ctx := t.Context()
	insert := func(ctx context.Context, tx *sql.Tx, id string) error {
		_, err := s.execTx(ctx, tx, `INSERT INTO marks (kind, id, until, data) VALUES (?, ?, ?, ?)`,
			"grouptest", id, s.time(time.Now().Add(time.Hour).UTC()), []byte{})
		return err
	}

	// The first writer holds the transaction open while the others queue.
	hold, started := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.write(ctx, func(tx *sql.Tx) error {
			close(started)
			<-hold
			return insert(ctx, tx, "w00")
		})
	}()
	<-started
	const n = 15
	errFailed := errors.New("this write fails")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			id := fmt.Sprintf("w%02d", i)
			switch i {
			case 3:
				errs[i] = s.write(ctx, func(tx *sql.Tx) error {
					if err := insert(ctx, tx, id); err != nil {
						return err
					}
					return errFailed
				})
			case 5:
				errs[i] = s.write(cancelled, func(tx *sql.Tx) error { return insert(ctx, tx, id) })
			case 7:
				errs[i] = s.write(ctx, func(tx *sql.Tx) error {
					if err := insert(ctx, tx, id); err != nil {
						return err
					}
					panic("a bug in one write")
				})
			case 9:
				// A unique violation: rolled back to its savepoint only.
				errs[i] = s.write(ctx, func(tx *sql.Tx) error {
					if err := insert(ctx, tx, id); err != nil {
						return err
					}
					return insert(ctx, tx, id)
				})
			default:
				errs[i] = s.write(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, id) })
			}
		})
	}
	for tries := 0; ; tries++ {
		queued := g.queued()
		if queued == n {
			break
		}
		if tries == 500 {
			t.Fatalf("%d writers queued behind the first, want %d", queued, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	if g.commits.Load() != 2 {
		t.Errorf("%d transactions for the first write and %d queued behind it, want 2", g.commits.Load(), n)
	}
	for i := 1; i <= n; i++ {
		var ok bool
		switch i {
		case 3:
			ok = errors.Is(errs[i], errFailed)
		case 5:
			ok = errors.Is(errs[i], context.Canceled)
		case 7:
			ok = errs[i] != nil && strings.Contains(errs[i].Error(), "panicked")
		case 9:
			ok = errs[i] != nil
		default:
			ok = errs[i] == nil
		}
		if !ok {
			t.Errorf("write %d: error %v", i, errs[i])
		}
	}
	want := "w00 w01 w02 w04 w06 w08 w10 w11 w12 w13 w14 w15"
	if got := committedTestMarks(t, s); got != want {
		t.Errorf("committed %q, want %q", got, want)
	}

	// The group is free again: a lone write commits on its own.
	if err := s.write(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "w16") }); err != nil {
		t.Fatal(err)
	}
	if g.commits.Load() != 3 {
		t.Errorf("%d transactions after a lone write, want 3", g.commits.Load())
	}
}

// On one core, writers that are all runnable at once go out in one
// commit: the leader lets them queue before it takes its batch.
func TestGroupCommitOneCore(t *testing.T) {
	s := migrated(t, openSQLite(t, filepath.Join(t.TempDir(), "one.db")))
	g := s.d.group
	ctx := t.Context()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const rounds, writers = 10, 8
	for r := range rounds {
		start := make(chan struct{})
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				<-start
				errs <- s.write(ctx, func(tx *sql.Tx) error {
					_, err := s.execTx(ctx, tx, `INSERT INTO marks (kind, id, until, data) VALUES (?, ?, ?, ?)`,
						"grouptest", fmt.Sprintf("r%dw%d", r, w), s.time(time.Now().Add(time.Hour).UTC()), []byte{})
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// One commit per round. The scheduler splits about one round in fifty
	// (every 61st turn it runs the yielded leader before the local
	// queue); without the yield each round takes two or more commits: the
	// leader's own, then everyone else's.
	if got := g.commits.Load(); got > rounds+rounds/2 {
		t.Errorf("%d commits for %d rounds of %d writers released together, want about %d", got, rounds, writers, rounds)
	}
	if got := len(strings.Fields(committedTestMarks(t, s))); got != rounds*writers {
		t.Errorf("%d writes committed, want %d", got, rounds*writers)
	}
}

// A batch that panics outside the writes themselves (here, just before its
// commit) commits nothing, tells every writer in it so, and leaves the
// group to the writers queued behind it.
func TestGroupCommitPanic(t *testing.T) {
	s := migrated(t, openSQLite(t, filepath.Join(t.TempDir(), "p.db")))
	g := s.d.group
	ctx := t.Context()
	insert := func(id string) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := s.execTx(ctx, tx, `INSERT INTO marks (kind, id, until, data) VALUES (?, ?, ?, ?)`,
				"grouptest", id, s.time(time.Now().Add(time.Hour).UTC()), []byte{})
			return err
		}
	}
	g.beforeCommit = func() {
		g.beforeCommit = nil
		panic("the commit broke")
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("the batch's panic did not reach its leader")
			}
		}()
		s.write(ctx, insert("lost"))
	}()
	done := make(chan error, 1)
	go func() { done <- s.write(ctx, insert("kept")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a write after the panic: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write after the panic is still waiting")
	}
	if got := committedTestMarks(t, s); got != "kept" {
		t.Errorf("committed %q, want only the write after the panic", got)
	}
}

// committedTestMarks lists the IDs of the marks the tests above wrote.
func committedTestMarks(t *testing.T, s *Store) string {
	t.Helper()
	r, err := s.db.QueryContext(t.Context(), `SELECT id FROM marks WHERE kind = 'grouptest' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ids []string
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(ids, " ")
}

// SQLite keeps a few connections (each holds memory outside Go's heap),
// each with a small page cache, and never more: many more writers and
// readers than connections all get through, writes that read on another
// connection meanwhile too.
func TestSQLiteFewConnections(t *testing.T) {
	s := migrated(t, openSQLite(t, filepath.Join(t.TempDir(), "c.db")))
	limit := sqliteConnections()
	if got := s.db.Stats().MaxOpenConnections; got != limit {
		t.Fatalf("connections: got at most %d, want %d", got, limit)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	count := func() (int, error) {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM marks WHERE kind = 'pooltest'`).Scan(&n)
		return n, err
	}
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 1 {
				_, errs[i] = count()
				return
			}
			errs[i] = s.write(ctx, func(tx *sql.Tx) error {
				if _, err := count(); err != nil { // another connection, inside the write
					return err
				}
				_, err := s.execTx(ctx, tx, `INSERT INTO marks (kind, id, until, data) VALUES (?, ?, ?, ?)`,
					"pooltest", strconv.Itoa(i), s.time(time.Now().Add(time.Hour).UTC()), []byte{})
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if got, err := count(); err != nil || got != n/2 {
		t.Errorf("written: got %d (%v), want %d", got, err, n/2)
	}
	if open := s.db.Stats().OpenConnections; open > limit {
		t.Errorf("open connections: got %d, want at most %d", open, limit)
	}
	// Holding every connection at once reaches each of them, used or new.
	for i := range limit {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var kib int
		if err := c.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&kib); err != nil || kib != -sqliteCacheKiB {
			t.Errorf("connection %d: cache_size %d (%v), want %d (KiB)", i, kib, err, -sqliteCacheKiB)
		}
	}
}
