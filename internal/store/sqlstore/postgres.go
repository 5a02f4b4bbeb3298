package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/citizenid/citizenid/internal/store"
)

// Advisory lock keys ("citizen" in ASCII, then a number). They only need to
// differ from each other and from whatever else shares the database.
const (
	lockMigrate     int64 = 0x636974697a656e01
	lockAudit       int64 = 0x636974697a656e02
	lockSigningKeys int64 = 0x636974697a656e03
)

// OpenPostgres connects to the database at url (a libpq URL or key=value
// string: connect_timeout, statement_timeout and other run-time parameters
// as pgx reads them; pool_max_conns, pool_max_conn_lifetime and
// pool_max_conn_idle_time size database/sql's pool, the other pool_*
// parameters are accepted and ignored) and checks that it answers. It does
// not migrate; call Migrate.
//
// PostgresOptions.Timeout, when set, bounds every query and transaction (Store.Timeout),
// connecting (unless the URL sets connect_timeout) and each statement on
// the server (unless the URL sets statement_timeout): a hung server never
// holds a request longer.
func OpenPostgres(ctx context.Context, url string, opts ...PostgresOptions) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	var o PostgresOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	bound := o.Timeout
	if o.Tracer != nil {
		cfg.ConnConfig.Tracer = o.Tracer
	}
	if bound > 0 {
		if cfg.ConnConfig.ConnectTimeout == 0 {
			cfg.ConnConfig.ConnectTimeout = bound
		}
		if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(bound.Milliseconds(), 10)
		}
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	pctx, cancel := context.WithTimeout(ctx, cmp.Or(bound, 30*time.Second))
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &Store{db: db, d: postgres(cfg.ConnConfig), Timeout: bound}, nil
}

// PostgresOptions are OpenPostgres's options.
type PostgresOptions struct {
	Timeout time.Duration
	// Tracer, when set, sees every query (internal/telemetry).
	Tracer pgx.QueryTracer
}

func postgres(conn *pgx.ConnConfig) *dialect {
	return &dialect{
		name:     "postgres",
		numbered: true,
		replace: strings.NewReplacer(
			"instr(", "strpos(",
			"COLLATE BINARY", `COLLATE "C"`,
		),
		xactLock:      `SELECT pg_advisory_xact_lock($1)`,
		audits:        new(auditQueue),
		modifyingWith: true,
		encList:       func(l []string) any { return nonNilList(l) },
		scanList:      func(l *[]string) sql.Scanner { return (*textArray)(l) },
		encTime:       func(t time.Time) any { return t },
		errKind: func(err error) error {
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				switch pe.Code {
				case "23505": // unique_violation
					return store.ErrConflict
				case "23503": // foreign_key_violation
					return store.ErrNotFound
				}
			}
			return nil
		},
		migrate: func(ctx context.Context, s *Store) error { return migratePostgres(ctx, s, conn) },
	}
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// textArray scans a text[] column, which database/sql receives in
// PostgreSQL's text format: {a,"b c","d\"e"}. The server quotes an
// element that is empty, is NULL in any case, or holds a brace, comma,
// quote, backslash or white space, and escapes quotes and backslashes
// inside quotes. A one-dimensional array the store wrote has no bounds
// decoration and no NULL elements.
type textArray []string

func (l *textArray) Scan(src any) error {
	s, err := text(src)
	if err == nil {
		*l, err = parseTextArray(s)
	}
	if err != nil {
		return fmt.Errorf("parse stored list: %w", err)
	}
	return nil
}

func parseTextArray(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("not a one-dimensional array: %q", s)
	}
	s = s[1 : len(s)-1]
	if s == "" {
		return nil, nil
	}
	var out []string
	for {
		var e string
		if s != "" && s[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New("unterminated quoted array element")
			}
			e, s = b.String(), s[i+1:]
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			e, s = s[:i], s[i:]
			if strings.EqualFold(e, "NULL") || strings.ContainsAny(e, `{}"\`) {
				return nil, fmt.Errorf("unexpected array element %q", e)
			}
		}
		out = append(out, e)
		if s == "" {
			return out, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("unexpected %q after array element", s[0])
		}
		s = s[1:]
	}
}

// migratePostgres applies migrations/postgres while holding a session
// advisory lock on a dedicated connection, so that nodes starting together
// take turns and all but the first find nothing to do.
func migratePostgres(ctx context.Context, s *Store, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return fmt.Errorf("connect for lock: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(ctx) // ends the session, releasing the lock if unlock failed
	}()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockMigrate)
	}()
	return s.gooseUp(ctx, goose.DialectPostgres)
}
