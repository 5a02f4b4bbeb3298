package sqlstore

import (
	"io/fs"
	"sync"
	"testing"

	"github.com/citizenid/citizenid/internal/testenv"
	"github.com/citizenid/citizenid/migrations"
)

// TestConcurrentMigrate is several nodes starting at once on a fresh database.
func TestConcurrentMigrate(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes = 3
	stores := make([]*Store, nodes)
	for i := range stores {
		stores[i] = openPostgres(t, url)
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
	if err := stores[0].db.QueryRowContext(t.Context(),
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
