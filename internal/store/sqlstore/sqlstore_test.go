package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/storetest"
	"github.com/citizenid/citizenid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openSQLite(t testing.TB, path string) *Store {
	s, err := OpenSQLite(t.Context(), path)
	return opened(t, s, err)
}

func openPostgres(t testing.TB, url string) *Store {
	s, err := OpenPostgres(t.Context(), url)
	return opened(t, s, err)
}

func opened(t testing.TB, s *Store, err error) *Store {
	t.Helper()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dialects open a fresh, empty, migrated store of each dialect.
var dialects = []struct {
	name string
	open func(t testing.TB) *Store
}{
	{"sqlite", func(t testing.TB) *Store {
		return migrated(t, openSQLite(t, filepath.Join(t.TempDir(), "citizenid.db")))
	}},
	{"postgres", func(t testing.TB) *Store { return migrated(t, openPostgres(t, testenv.PostgresURL(t))) }},
}

func migrated(t testing.TB, s *Store) *Store {
	t.Helper()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return d.open(t) })
		})
	}
}

func BenchmarkStore(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			storetest.Bench(b, func(tb testing.TB) store.Store { return d.open(tb) })
		})
	}
}

func TestAuditAppendOnly(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t)
			if err := s.AppendAudit(t.Context(), &store.AuditEvent{Actor: "system", Action: "test"}); err != nil {
				t.Fatalf("append: %v", err)
			}
			for _, q := range []string{`UPDATE audit_events SET outcome = 'x'`, `DELETE FROM audit_events`} {
				if _, err := s.db.ExecContext(t.Context(), q); err == nil {
					t.Errorf("%s: got nil error, want the append-only trigger to refuse", q)
				}
			}
		})
	}
}
