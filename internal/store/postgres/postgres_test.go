package postgres

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/storetest"
	"github.com/citizenid/citizenid/internal/testenv"
	"github.com/citizenid/citizenid/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openStore(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) store.Store {
	s := openStore(t, testenv.PostgresURL(t))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }

// TestConcurrentMigrate is several nodes starting at once on a fresh database.
func TestConcurrentMigrate(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes = 3
	stores := make([]*Store, nodes)
	for i := range stores {
		stores[i] = openStore(t, url)
	}
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: got error %v, want nil", i, err)
		}
	}
	var applied int
	if err := stores[0].pool.QueryRow(t.Context(),
		`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatalf("count applied migrations: %v", err)
	}
	files, err := fs.Glob(migrations.FS, "postgres/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("applied migrations: got %d, want %d (each once)", applied, len(files))
	}
	for i, s := range stores {
		if _, err := s.ListClients(t.Context()); err != nil {
			t.Errorf("store %d after migrate: got error %v, want nil", i, err)
		}
	}
}

func TestAuditAppendOnly(t *testing.T) {
	s := newStore(t).(*Store)
	if err := s.AppendAudit(t.Context(), &store.AuditEvent{Actor: "system", Action: "test"}); err != nil {
		t.Fatalf("append: %v", err)
	}
	for _, q := range []string{`UPDATE audit_events SET outcome = 'x'`, `DELETE FROM audit_events`} {
		if _, err := s.pool.Exec(t.Context(), q); err == nil {
			t.Errorf("%s: got nil error, want the append-only trigger to refuse", q)
		}
	}
}

// TestMigrateWaitsForLock: while another session holds the migration lock,
// Migrate waits and changes nothing.
func TestMigrateWaitsForLock(t *testing.T) {
	url := testenv.PostgresURL(t)
	holder := openStore(t, url)
	conn, err := holder.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		t.Fatalf("take lock: %v", err)
	}
	s := openStore(t, url)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := s.Migrate(ctx); err == nil {
		t.Fatalf("migrate while the lock is held: got nil error, want it to wait until the deadline")
	}
	var tables int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("tables created while the lock was held: got %d, want 0", tables)
	}
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_unlock($1)`, lockMigrate); err != nil {
		t.Fatalf("release lock: %v", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("migrate after release: got %v, want nil", err)
	}
}

// TestMigrateDownUp checks that the Down half of every migration undoes its
// Up half.
func TestMigrateDownUp(t *testing.T) {
	s := newStore(t).(*Store)
	sub, err := fs.Sub(migrations.FS, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var objects int
	if err := s.pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'goose%') +
		(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')`).Scan(&objects); err != nil {
		t.Fatal(err)
	}
	if objects != 0 {
		t.Errorf("tables and functions after down: got %d, want 0", objects)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("up again: got %v, want nil", err)
	}
}
