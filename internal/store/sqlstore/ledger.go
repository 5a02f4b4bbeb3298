package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Data-release ledger.

const ledgerColumns = `id, time, citizen_id, portal, portal_name, protocol, endpoint, attributes, level, session_id`

// ledgerChunk bounds the rows of one INSERT (and so its placeholders).
const ledgerChunk = 100

func (s *Store) scanLedger(r scanner) (*store.LedgerEntry, error) {
	var e store.LedgerEntry
	if err := r.Scan(&e.ID, scanTime(&e.Time), &e.CitizenID, &e.Portal, &e.PortalName, &e.Protocol, &e.Endpoint,
		s.scanList(&e.Attributes), &e.Level, &e.SessionID); err != nil {
		return nil, err
	}
	return &e, nil
}

// AppendLedger inserts the entries atomically: one multi-row INSERT, or
// one per chunk in a transaction.
func (s *Store) AppendLedger(ctx context.Context, entries []store.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := s.now()
	for i := range entries {
		e := &entries[i]
		if e.ID == "" || e.CitizenID == "" || e.Portal == "" {
			return errors.New("append ledger: id, citizen and portal are required")
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = norm(e.Time)
	}
	// One INSERT is atomic on its own: a batch that fits one statement
	// needs no explicit transaction (one round trip on PostgreSQL).
	if len(entries) <= ledgerChunk {
		q, args := s.ledgerInsert(entries)
		_, err := s.exec(ctx, q, args...)
		if err != nil {
			return s.wrap(err, "append %d ledger entries", len(entries))
		}
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(entries); start += ledgerChunk {
			q, args := s.ledgerInsert(entries[start:min(start+ledgerChunk, len(entries))])
			if _, err := s.execTx(ctx, tx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap(err, "append %d ledger entries", len(entries))
	}
	return nil
}

// ledgerInsert is one multi-row INSERT of the entries.
func (s *Store) ledgerInsert(entries []store.LedgerEntry) (string, []any) {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(entries)), ", ")
	args := make([]any, 0, 10*len(entries))
	for _, e := range entries {
		args = append(args, e.ID, s.time(e.Time), e.CitizenID, e.Portal, e.PortalName, e.Protocol, e.Endpoint,
			s.list(e.Attributes), e.Level, e.SessionID)
	}
	return `INSERT INTO ledger_entries (` + ledgerColumns + `) VALUES ` + values, args
}

// ListLedger returns the citizen's matching entries, newest first.
func (s *Store) ListLedger(ctx context.Context, citizenID string, f store.LedgerFilter) ([]store.LedgerEntry, error) {
	where := []string{"citizen_id = ?"}
	args := []any{citizenID}
	if f.Portal != "" {
		where = append(where, "portal = ?")
		args = append(args, f.Portal)
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, s.time(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, s.time(f.Until))
	}
	if !f.BeforeTime.IsZero() {
		where = append(where, "(time < ? OR (time = ? AND id < ?))")
		args = append(args, s.time(f.BeforeTime), s.time(f.BeforeTime), f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit)
	out, err := rows(ctx, s, s.db, s.scanLedger, `SELECT `+ledgerColumns+` FROM ledger_entries WHERE `+
		strings.Join(where, " AND ")+` ORDER BY time DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, s.wrap(err, "list ledger")
	}
	return out, nil
}

func scanPortal(r scanner) (*store.LedgerPortal, error) {
	var p store.LedgerPortal
	err := r.Scan(&p.Portal, &p.Name, &p.Count)
	return &p, err
}

// portalCounts groups the selected entries by portal; the name is the one
// of the portal's newest entry.
const portalCounts = `SELECT l.portal, (SELECT n.portal_name FROM ledger_entries n WHERE n.portal = l.portal
		ORDER BY n.time DESC, n.id DESC LIMIT 1), count(*) FROM ledger_entries l WHERE `

// LedgerPortalsOf lists the portals in the citizen's ledger.
func (s *Store) LedgerPortalsOf(ctx context.Context, citizenID string) ([]store.LedgerPortal, error) {
	out, err := rows(ctx, s, s.db, scanPortal, portalCounts+`l.citizen_id = ? GROUP BY l.portal ORDER BY l.portal`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "portals of the ledger")
	}
	return out, nil
}

// CountLedger counts entries per portal in [since, until).
func (s *Store) CountLedger(ctx context.Context, since, until time.Time) ([]store.LedgerPortal, error) {
	q, args := portalCounts+`l.time >= ?`, []any{s.time(since)}
	if !until.IsZero() {
		q += ` AND l.time < ?`
		args = append(args, s.time(until))
	}
	out, err := rows(ctx, s, s.db, scanPortal, q+` GROUP BY l.portal ORDER BY l.portal`, args...)
	if err != nil {
		return nil, s.wrap(err, "count ledger")
	}
	return out, nil
}

// PurgeLedger deletes entries older than before.
func (s *Store) PurgeLedger(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM ledger_entries WHERE time < ?`, s.time(before))
	if err != nil {
		return 0, s.wrap(err, "purge ledger")
	}
	return n, nil
}

var _ store.Ledger = (*Store)(nil)
