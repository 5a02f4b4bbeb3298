package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Audit.

const auditColumns = `seq, time, actor, action, target, outcome, client_ip, details, prev_hash, hash`

// AppendAudit assigns Seq, PrevHash and Hash and appends e. Appends are
// serialised (a transaction-scoped lock, or the single writer), so the
// chain never forks.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ev := *e
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = norm(ev.Time)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		var last int64
		var lastHash string
		err := s.queryRow(ctx, tx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&last, &lastHash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ev.Seq = last + 1
		ev.PrevHash = lastHash
		ev.Hash = store.AuditHash(ev.PrevHash, &ev)
		_, err = s.execTx(ctx, tx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.Seq, s.time(ev.Time), ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.ClientIP, encMap(ev.Details),
			ev.PrevHash, ev.Hash)
		return err
	})
	if err != nil {
		return s.wrap(err, "append audit event")
	}
	*e = ev
	return nil
}

func scanAudit(r scanner) (*store.AuditEvent, error) {
	var e store.AuditEvent
	var details string
	if err := r.Scan(&e.Seq, scanTime(&e.Time), &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.ClientIP, &details,
		&e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	var err error
	if e.Details, err = decMap(details); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListAudit returns matching events ordered by Seq.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	where := []string{"seq > ?"}
	args := []any{f.AfterSeq}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, s.time(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, s.time(f.Until))
	}
	for _, c := range []struct{ col, val string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	out, err := rows(ctx, s, s.db, scanAudit, `SELECT `+auditColumns+` FROM audit_events WHERE `+
		strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, s.wrap(err, "list audit events")
	}
	return out, nil
}

// CountAudit counts events by action and outcome.
func (s *Store) CountAudit(ctx context.Context, since, until time.Time, actionPrefix string) ([]store.AuditCount, error) {
	q := `SELECT action, outcome, count(*) FROM audit_events
		WHERE time >= ? AND substr(action, 1, length(CAST(? AS TEXT))) = ?`
	args := []any{s.time(since), actionPrefix, actionPrefix}
	if !until.IsZero() {
		q += ` AND time < ?`
		args = append(args, s.time(until))
	}
	out, err := rows(ctx, s, s.db, func(r scanner) (*store.AuditCount, error) {
		var c store.AuditCount
		err := r.Scan(&c.Action, &c.Outcome, &c.Count)
		return &c, err
	}, q+` GROUP BY action, outcome ORDER BY action COLLATE BINARY, outcome COLLATE BINARY`, args...)
	if err != nil {
		return nil, s.wrap(err, "count audit events")
	}
	return out, nil
}
