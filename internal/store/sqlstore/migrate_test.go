package sqlstore

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/testenv"
	"github.com/citizenid/citizenid/migrations"
)

// migrationCases are, per dialect,, how to open a fresh store that is not
// migrated, and what the migration tests need to know about the schema.
var migrationCases = []struct {
	name  string
	fresh func(t *testing.T) (s *Store, holdLock func() (release func()))
	goose goose.Dialect
	// tables counts every table; schema the schema's own tables and
	// functions (not goose's).
	tables, schema string
}{
	{
		name: "sqlite",
		fresh: func(t *testing.T) (*Store, func() func()) {
			path := filepath.Join(t.TempDir(), "citizenid.db")
			return openSQLite(t, path), func() func() {
				unlock, err := lockFile(t.Context(), path+".migrate-lock")
				if err != nil {
					t.Fatalf("take lock: %v", err)
				}
				return unlock
			}
		},
		goose:  goose.DialectSQLite3,
		tables: `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`,
		schema: `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite%'`,
	},
	{
		name: "postgres",
		fresh: func(t *testing.T) (*Store, func() func()) {
			url := testenv.PostgresURL(t)
			return openPostgres(t, url), func() func() {
				conn, err := openPostgres(t, url).db.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.ExecContext(t.Context(), `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
					t.Fatalf("take lock: %v", err)
				}
				return func() {
					defer conn.Close()
					if _, err := conn.ExecContext(t.Context(), `SELECT pg_advisory_unlock($1)`, lockMigrate); err != nil {
						t.Fatalf("release lock: %v", err)
					}
				}
			}
		},
		goose:  goose.DialectPostgres,
		tables: `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`,
		schema: `SELECT
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'goose%') +
			(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')`,
	},
}

// TestMigrateWaitsForLock: while another process (or node) holds the
// migration lock, Migrate waits and changes nothing.
func TestMigrateWaitsForLock(t *testing.T) {
	for _, c := range migrationCases {
		t.Run(c.name, func(t *testing.T) {
			s, holdLock := c.fresh(t)
			release := holdLock()
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			if err := s.Migrate(ctx); err == nil {
				t.Fatalf("migrate while the lock is held: got nil error, want it to wait until the deadline")
			}
			var tables int
			if err := s.db.QueryRowContext(t.Context(), c.tables).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("tables created while the lock was held: got %d, want 0", tables)
			}
			release()
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("migrate after release: got %v, want nil", err)
			}
		})
	}
}

// gooseOn is a goose provider of the dialect's migrations on s, to move
// its schema to a version of the test's choosing.
func gooseOn(t *testing.T, s *Store, name string, dialect goose.Dialect) *goose.Provider {
	t.Helper()
	sub, err := fs.Sub(migrations.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(dialect, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMigrateDownUp checks that the Down half of every migration undoes its
// Up half.
func TestMigrateDownUp(t *testing.T) {
	for _, c := range migrationCases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := c.fresh(t)
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			p := gooseOn(t, s, c.name, c.goose)
			if _, err := p.DownTo(t.Context(), 0); err != nil {
				t.Fatalf("down: %v", err)
			}
			var objects int
			if err := s.db.QueryRowContext(t.Context(), c.schema).Scan(&objects); err != nil {
				t.Fatal(err)
			}
			if objects != 0 {
				t.Errorf("tables and functions after down: got %d, want 0", objects)
			}
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("up again: got %v, want nil", err)
			}
		})
	}
}

// TestMigrateKeepsRefreshTokens: 00016 rebuilds the refresh tokens'
// table around their hash (SQLite) or moves its primary key (PostgreSQL);
// a token issued before it can still be rotated after it, and one issued
// after it survives the way down.
func TestMigrateKeepsRefreshTokens(t *testing.T) {
	for _, c := range migrationCases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			s, _ := c.fresh(t)
			p := gooseOn(t, s, c.name, c.goose)
			if _, err := p.UpTo(ctx, 15); err != nil {
				t.Fatalf("up to 15: %v", err)
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			token := func(n string) *store.RefreshToken {
				return &store.RefreshToken{ID: "id-" + n, TokenHash: "hash-" + n, FamilyID: "family", CitizenID: "c",
					ClientID: "portal", SessionID: "sid", Scopes: []string{"openid"}, ACR: "high",
					CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			}
			if err := s.CreateRefreshToken(ctx, token("1")); err != nil {
				t.Fatalf("create before 00016: %v", err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if err := s.RotateRefreshToken(ctx, "hash-1", token("2"), now); err != nil {
				t.Fatalf("rotate a token from before 00016: %v", err)
			}
			if err := s.CreateRefreshToken(ctx, token("2")); !errors.Is(err, store.ErrConflict) {
				t.Errorf("create a second token with hash-2: got %v, want ErrConflict", err)
			}
			if _, err := p.DownTo(ctx, 15); err != nil {
				t.Fatalf("down to 15: %v", err)
			}
			for _, n := range []string{"1", "2"} {
				got, err := s.RefreshTokenByHash(ctx, "hash-"+n)
				if err != nil {
					t.Fatalf("token %s after down: %v", n, err)
				}
				if got.ID != "id-"+n || got.ACR != "high" || (n == "1") == got.UsedAt.IsZero() {
					t.Errorf("token %s after down: got %+v", n, got)
				}
			}
		})
	}
}
