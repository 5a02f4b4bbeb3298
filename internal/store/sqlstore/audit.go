package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Audit.

const auditColumns = `seq, time, actor, action, target, outcome, client_ip, details, prev_hash, hash`

// AppendAudit assigns Seq, PrevHash and Hash and appends e. Appends are
// serialised (a transaction-scoped lock, or the single writer), so the
// chain never forks. Where writes are not grouped already (PostgreSQL),
// concurrent appends are written together (auditQueue).
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ev := *e
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = norm(ev.Time)
	// What came from outside is recorded as well as it can be stored,
	// not refused: a NUL in a client ID must not cost its audit event.
	for _, f := range []*string{&ev.Actor, &ev.Action, &ev.Target, &ev.Outcome, &ev.ClientIP} {
		*f = store.Storable(*f)
	}
	ev.Details = storableDetails(ev.Details)
	var err error
	if s.d.audits != nil {
		err = s.d.audits.append(ctx, s, &ev)
	} else {
		err = s.write(ctx, func(tx *sql.Tx) error { return s.appendAuditTx(ctx, tx, []*store.AuditEvent{&ev}) })
	}
	if err != nil {
		return s.wrap(err, "append audit event")
	}
	*e = ev
	return nil
}

// storableDetails is d, or a copy of it made Storable when it holds text
// no backend can store (the caller's map stays as it is).
func storableDetails(d map[string]string) map[string]string {
	for k, v := range d {
		if !store.StorableText(k) || !store.StorableText(v) {
			out := make(map[string]string, len(d))
			for k, v := range d {
				out[store.Storable(k)] = store.Storable(v)
			}
			return out
		}
	}
	return d
}

// appendAuditTx chains evs, in order, after the last event and inserts
// them in tx.
func (s *Store) appendAuditTx(ctx context.Context, tx *sql.Tx, evs []*store.AuditEvent) error {
	if err := s.lock(ctx, tx, lockAudit); err != nil {
		return err
	}
	var last int64
	var lastHash string
	err := s.queryRow(ctx, tx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&last, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for i, ev := range evs {
		ev.Seq = last + 1
		ev.PrevHash = lastHash
		ev.Hash = store.AuditHash(ev.PrevHash, ev)
		if _, err := s.execTx(ctx, tx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.Seq, s.time(ev.Time), ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.ClientIP, encMap(ev.Details),
			ev.PrevHash, ev.Hash); err != nil {
			return &refusedEvent{i: i, err: err}
		}
		last, lastHash = ev.Seq, ev.Hash
	}
	return nil
}

// auditQueue writes concurrent audit appends together: one transaction,
// one lock of the chain and one read of its end for all of them, where
// each alone costs all three (five round trips, taken one append at a
// time under the chain's lock). Every request that authenticates a client
// or a citizen appends one. The batches are relayed (relay), each append
// returns once its batch committed. An event the database refuses fails
// alone: the batch is written again without it.
type auditQueue struct {
	relay[*queuedAudit]

	// beforeBatch, when set (tests), runs before each batch is written.
	beforeBatch func(n int)
}

type queuedAudit struct {
	relayTurn // done is closed with err set
	ev        *store.AuditEvent
	err       error
}

// maxAuditBatch bounds one batch's transaction.
const maxAuditBatch = 100

func (q *auditQueue) append(ctx context.Context, s *Store, ev *store.AuditEvent) error {
	a := &queuedAudit{relayTurn: newTurn(), ev: ev}
	if !q.wait(a) {
		return a.err
	}
	defer q.handOver()
	q.write(context.WithoutCancel(ctx), s, q.take(maxAuditBatch))
	return a.err
}

// write commits batch and closes every append's done with its outcome,
// a panic's too. An event the database refuses fails alone: the batch is
// written again without it.
func (q *auditQueue) write(ctx context.Context, s *Store, batch []*queuedAudit) {
	defer func() {
		if r := recover(); r != nil {
			for _, a := range batch {
				a.err = fmt.Errorf("panic: %v", r)
				close(a.done)
			}
		}
	}()
	for len(batch) > 0 {
		if q.beforeBatch != nil {
			q.beforeBatch(len(batch))
		}
		evs := make([]*store.AuditEvent, len(batch))
		for i, a := range batch {
			evs[i] = a.ev
		}
		err := s.write(ctx, func(tx *sql.Tx) error { return s.appendAuditTx(ctx, tx, evs) })
		var refused *refusedEvent
		if !errors.As(err, &refused) || len(batch) == 1 {
			for _, a := range batch {
				a.err = err
				close(a.done)
			}
			return
		}
		batch[refused.i].err = refused.err
		close(batch[refused.i].done)
		batch = append(batch[:refused.i:refused.i], batch[refused.i+1:]...)
	}
}

// refusedEvent is the database's refusal of the i-th event of a batch:
// the transaction was rolled back before its commit.
type refusedEvent struct {
	i   int
	err error
}

func (e *refusedEvent) Error() string { return e.err.Error() }
func (e *refusedEvent) Unwrap() error { return e.err }

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
