package sqlstore

import (
	"errors"
	"io/fs"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

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

// TestTextArrayRoundTrip: lists written as text[] read back as written,
// whatever the server must quote or escape.
func TestTextArrayRoundTrip(t *testing.T) {
	s := dialects[1].open(t)
	tests := [][]string{
		nil,
		{"openid"},
		{"https://portal.example.gov.vn/cb?a=1&b=2", "plain"},
		{"", "NULL", "null", "a,b", "{x}", `q"uote`, `back\slash`, `\"`, " lead", "trail ", "tab\tnew\nline", "Việt Nam"},
	}
	for _, want := range tests {
		var got []string
		if err := s.db.QueryRowContext(t.Context(), `SELECT $1::text[]`, s.list(want)).Scan(s.scanList(&got)); err != nil {
			t.Fatalf("round trip %q: %v", want, err)
		}
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("round trip: got %q, want %q", got, want)
		}
	}
}

// TestOpenPostgresParameters: run-time parameters of the URL reach every
// connection (statement_timeout bounds a statement) and pool_max_conns
// sizes the pool.
func TestOpenPostgresParameters(t *testing.T) {
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Skipf("not a URL: %v", err) // a key=value string from CITIZENID_TEST_DATABASE_URL
	}
	q := u.Query()
	q.Set("statement_timeout", "100")
	q.Set("pool_max_conns", "2")
	u.RawQuery = q.Encode()
	s := openPostgres(t, u.String())
	if got := s.db.Stats().MaxOpenConnections; got != 2 {
		t.Errorf("max open connections: got %d, want 2", got)
	}
	_, err = s.db.ExecContext(t.Context(), `SELECT pg_sleep(2)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" { // query_canceled
		t.Errorf("statement past statement_timeout: got error %v, want query_canceled (57014)", err)
	}
}
