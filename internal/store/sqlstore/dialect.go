package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// dialect is what differs between the databases. Queries are written once,
// with ? placeholders, SQLite's spellings where the two differ, and the row
// locks PostgreSQL needs; translate turns them into the database's SQL.
type dialect struct {
	name string

	// numbered: placeholders are $1, $2, ... instead of ?.
	numbered bool
	// replace rewrites spellings (after placeholders), or is nil.
	replace *strings.Replacer
	// translated caches translate's results by query text.
	translated sync.Map
	// prepare: run queries as prepared statements, cached in stmts by
	// translated query text. (pgx caches statements per connection itself.)
	prepare bool
	stmts   sync.Map

	// writeMu and group, set together (SQLite: one writer, no row locks),
	// serialise every write of this store: the group commits concurrent
	// writers' transactions together, one batch at a time under writeMu,
	// which migrations take too.
	writeMu *sync.Mutex
	group   *group
	// audits batches audit appends where writes are not grouped
	// (PostgreSQL), or is nil.
	audits *auditQueue
	// modifyingWith: a WITH clause may hold an UPDATE whose returned rows
	// the statement after it uses, all in one statement (PostgreSQL).
	modifyingWith bool
	// xactLock takes a transaction-scoped lock on a key (the audit chain,
	// the signing-key set), or is "" when writeMu serialises writers.
	xactLock string

	// encList encodes a list for a list column; scanList is the scan
	// destination for one (a NULL or empty list reads back nil).
	encList  func(l []string) any
	scanList func(l *[]string) sql.Scanner
	// encTime encodes a (normalised) time for a time column.
	encTime func(t time.Time) any

	// errKind maps a constraint violation to store.ErrConflict or
	// store.ErrNotFound; nil for any other error.
	errKind func(err error) error
	// migrate applies the dialect's migration series.
	migrate func(ctx context.Context, s *Store) error
}

// translate rewrites a query for the dialect, once per query text.
func (d *dialect) translate(query string) string {
	if !d.numbered && d.replace == nil {
		return query
	}
	if q, ok := d.translated.Load(query); ok {
		return q.(string)
	}
	q := query
	if d.numbered {
		var b strings.Builder
		n := 0
		for i := 0; i < len(query); i++ {
			if query[i] == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteByte(query[i])
		}
		q = b.String()
	}
	if d.replace != nil {
		q = d.replace.Replace(q)
	}
	d.translated.Store(query, q)
	return q
}

// Codecs. Times are kept in UTC rounded to store.TimePrecision; a zero
// optional time is NULL. Lists are never NULL; an empty one reads back nil.

func norm(t time.Time) time.Time { return t.Round(store.TimePrecision).UTC() }

func (s *Store) time(t time.Time) any { return s.d.encTime(norm(t)) }

func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.time(t)
}

func (s *Store) list(l []string) any { return s.d.encList(l) }

func (s *Store) scanList(l *[]string) sql.Scanner { return s.d.scanList(l) }

// text returns src, a text column's value as drivers hand it over.
func text(src any) (string, error) {
	switch v := src.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("unexpected %T", src)
}

// sqliteTimeLayout is how SQLite keeps times: TEXT, UTC, microseconds, so
// that text order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// scanTime is the scan destination for a time column, NULL or not: a
// NULL reads as the zero time.
func scanTime(t *time.Time) sql.Scanner { return (*timeDest)(t) }

type timeDest time.Time

func (d *timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = timeDest{}
	case time.Time:
		*d = timeDest(v.UTC())
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

func (d *timeDest) parse(s string) error {
	t, err := time.Parse(sqliteTimeLayout, s)
	if err != nil {
		return fmt.Errorf("parse stored time %q: %w", s, err)
	}
	*d = timeDest(t)
	return nil
}

// Maps (audit details) are JSON text in both dialects (jsonb in
// PostgreSQL); an empty map is {} and reads back nil.

func encMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // map[string]string always marshals
	return string(b)
}

func decMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("parse stored map: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
