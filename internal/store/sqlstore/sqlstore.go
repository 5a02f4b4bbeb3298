package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/migrations"
)

// Store is a store.Store on a PostgreSQL or SQLite database.
type Store struct {
	db *sql.DB
	d  *dialect

	// Now is the store's clock, used to fill timestamps the caller left
	// zero. Nil means time.Now.
	Now func() time.Time
	// Timeout, when set, bounds each query and each transaction, unless
	// the caller's context ends sooner.
	Timeout time.Duration
}

// bound is ctx with the store's timeout, when that ends sooner.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Timeout <= 0 {
		return ctx, func() {}
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.Timeout)
}

// Migrate applies every pending migration of the dialect's series.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.d.migrate(ctx, s); err != nil {
		return fmt.Errorf("migrate %s: %w", s.d.name, err)
	}
	return nil
}

// gooseUp applies the pending migrations of the series named after the
// dialect (migrations/postgres, migrations/sqlite) with goose.
func (s *Store) gooseUp(ctx context.Context, dialect goose.Dialect) error {
	sub, err := fs.Sub(migrations.FS, s.d.name)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	return nil
}

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	s.d.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return norm(s.Now())
	}
	return norm(time.Now())
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type scanner interface{ Scan(dest ...any) error }

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// qualify prefixes each of a comma-separated list of columns with table.
func qualify(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// query, queryRow and execOn run a query on q, the database or a
// transaction, translated for the dialect and, where the dialect says so,
// as a statement prepared once per store.
func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	ctx, query = s.stmtCtx(ctx, q), s.d.translate(query)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	ctx, query = s.stmtCtx(ctx, q), s.d.translate(query)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

func (s *Store) execOn(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	ctx, query = s.stmtCtx(ctx, q), s.d.translate(query)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

// stmtCtx is the context of a statement on q: in a group-committed
// transaction, without its caller's cancellation. SQLite answers a write
// interrupted inside a transaction by rolling back the whole transaction,
// which holds other callers' writes too; the transaction's own deadline
// (the store's timeout) still bounds it.
func (s *Store) stmtCtx(ctx context.Context, q querier) context.Context {
	if _, ok := q.(*sql.Tx); ok && s.d.group != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// prepared returns the store's prepared statement for the (translated)
// query, bound to q when q is a transaction, or nil where the dialect does
// not prepare or preparing failed (the query then runs unprepared and
// reports the error itself). database/sql prepares it again on each
// connection that runs it, once.
func (s *Store) prepared(ctx context.Context, q querier, query string) *sql.Stmt {
	if !s.d.prepare {
		return nil
	}
	var st *sql.Stmt
	if v, ok := s.d.stmts.Load(query); ok {
		st = v.(*sql.Stmt)
	} else {
		p, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil
		}
		v, loaded := s.d.stmts.LoadOrStore(query, p)
		if loaded {
			p.Close()
		}
		st = v.(*sql.Stmt)
	}
	if tx, ok := q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st)
	}
	return st
}

// write runs fn in one write transaction, serialised with the store's
// other writers where the dialect needs it: on SQLite, committed together
// with theirs (group), each in a savepoint of its own.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.d.group != nil {
		return s.d.group.do(ctx, s, fn)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// exec runs one writing statement and returns the number of rows it
// changed: on its own where the database serialises writers itself, in a
// write transaction otherwise.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if s.d.writeMu == nil {
		return affected(s.execOn(ctx, s.db, query, args...))
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.execTx(ctx, tx, query, args...)
		return err
	})
	return n, err
}

// execTx runs one statement in tx and returns the number of rows it changed.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	return affected(s.execOn(ctx, tx, query, args...))
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execOne runs a writing statement that must change a row; ErrNotFound when
// it changed none.
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	n, err := s.exec(ctx, query, args...)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}

// row reads one row; sql.ErrNoRows when there is none.
func row[T any](ctx context.Context, s *Store, q querier, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scan(s.queryRow(ctx, q, query, args...))
}

// rows reads every row the query returns.
func rows[T any](ctx context.Context, s *Store, q querier, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	r, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []T
	for r.Next() {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, r.Err()
}

// update is the one read-modify-write: in one write transaction it reads
// the row that query selects (FOR UPDATE, which the dialect keeps where it
// has row locks), applies fn, and hands the result to put to write back.
// fn's error is returned as it is; the others are wrapped with what.
func update[T any](ctx context.Context, s *Store, what string, scan func(scanner) (*T, error), query string, key any,
	fn func(v *T) error, put func(tx *sql.Tx, v *T) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		v, err := row(ctx, s, tx, scan, query, key)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			fnErr = err
			return err
		}
		return put(tx, v)
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return s.wrap(err, "%s", what)
	}
	return nil
}

// stamp sets *updated to the store's clock unless fn changed it from old.
func (s *Store) stamp(updated *time.Time, old time.Time) {
	if updated.Equal(old) {
		*updated = s.now()
	}
}

// wrap adds context to err and maps no-rows and constraint violations to
// the store's sentinels.
func (s *Store) wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if kind := s.d.errKind(err); kind != nil {
		return fmt.Errorf("%s: %w: %w", what, kind, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

var _ store.Store = (*Store)(nil)
