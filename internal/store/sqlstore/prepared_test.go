package sqlstore

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/testenv"
)

// BenchmarkStatementCache measures the queries of a login and a token
// request with the statement cache and without it, on both dialects:
// SQLite with the store's prepared statements on and off; PostgreSQL with
// pgx's per-connection statement cache (cache_statement, the default) and
// with a prepare on every query (describe_exec).
func BenchmarkStatementCache(b *testing.B) {
	variants := []struct {
		name string
		open func(tb testing.TB) *Store
	}{
		{"sqlite/cached", func(tb testing.TB) *Store { return migrated(tb, openSQLite(tb, filepath.Join(tb.TempDir(), "c.db"))) }},
		{"sqlite/uncached", func(tb testing.TB) *Store {
			s := migrated(tb, openSQLite(tb, filepath.Join(tb.TempDir(), "c.db")))
			s.d.prepare = false
			return s
		}},
		{"postgres/cached", func(tb testing.TB) *Store { return migrated(tb, openPostgres(tb, withExecMode(tb, "cache_statement"))) }},
		{"postgres/uncached", func(tb testing.TB) *Store { return migrated(tb, openPostgres(tb, withExecMode(tb, "describe_exec"))) }},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			s := v.open(b)
			ctx := b.Context()
			c := &store.Citizen{ID: "bench-citizen", Number: "001099000001", Name: "Nguyễn Văn A", IdentityLevel: 1}
			if err := s.CreateCitizen(ctx, c, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"); err != nil {
				b.Fatal(err)
			}
			if err := s.CreateClient(ctx, &store.Client{ID: "bench-portal", Name: "Portal", RedirectURIs: []string{"https://p.example/cb"}, SecretHash: "sha256:x"}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				// A password login's lookups, then a token request's client.
				if _, err := s.CitizenByNumber(ctx, c.Number); err != nil {
					b.Fatal(err)
				}
				if _, err := s.PasswordHash(ctx, c.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := s.ClientByID(ctx, "bench-portal"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withExecMode is a fresh database's URL with pgx's default_query_exec_mode.
func withExecMode(tb testing.TB, mode string) string {
	u, err := url.Parse(testenv.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("default_query_exec_mode", mode)
	u.RawQuery = q.Encode()
	return u.String()
}
