package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Outbox.

const outboxColumns = `id, kind, payload, created_at, next_attempt_at, attempts, status, last_error, done_at, target`

func scanOutbox(r scanner) (*store.OutboxMessage, error) {
	var m store.OutboxMessage
	if err := r.Scan(&m.ID, &m.Kind, &m.Payload, scanTime(&m.CreatedAt), scanTime(&m.NextAttemptAt), &m.Attempts,
		&m.Status, &m.LastError, scanTime(&m.DoneAt), &m.Target); err != nil {
		return nil, err
	}
	return &m, nil
}

// EnqueueOutbox inserts the messages in one transaction.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error { return s.enqueueTx(ctx, tx, msgs) })
	if err != nil {
		return s.wrap(err, "enqueue %d outbox messages", len(msgs))
	}
	return nil
}

// enqueueTx inserts the messages in tx.
func (s *Store) enqueueTx(ctx context.Context, tx *sql.Tx, msgs []store.OutboxMessage) error {
	now := s.now()
	for i := range msgs {
		m := &msgs[i]
		if m.ID == "" || m.Kind == "" {
			return errors.New("id and kind are required")
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		if m.Payload == nil {
			m.Payload = []byte{}
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = m.CreatedAt
		}
		m.CreatedAt, m.NextAttemptAt, m.Status, m.Attempts = norm(m.CreatedAt), norm(m.NextAttemptAt), store.OutboxPending, 0
		if _, err := s.execTx(ctx, tx, `INSERT INTO outbox (id, kind, payload, created_at, next_attempt_at, target) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, m.Kind, m.Payload, s.time(m.CreatedAt), s.time(m.NextAttemptAt), m.Target); err != nil {
			return err
		}
	}
	return nil
}

// ListOutbox returns the latest messages of kind for target.
func (s *Store) ListOutbox(ctx context.Context, kind, target string, limit int) ([]store.OutboxMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out, err := rows(ctx, s, s.db, scanOutbox, `SELECT `+outboxColumns+` FROM outbox WHERE kind = ? AND target = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, kind, target, limit)
	if err != nil {
		return nil, s.wrap(err, "list outbox %s %s", kind, target)
	}
	return out, nil
}

// ClaimOutbox leases due messages to owner.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	if owner == "" || limit <= 0 || len(kinds) == 0 {
		return nil, errors.New("claim outbox: owner, kinds and a positive limit are required")
	}
	in := strings.Repeat("?, ", len(kinds)-1) + "?"
	args := []any{owner, s.time(now.Add(lease)), s.time(now), s.time(now)}
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, limit)
	var out []store.OutboxMessage
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = rows(ctx, s, tx, scanOutbox, `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
				AND (lease_until IS NULL OR lease_until <= ?) AND kind IN (`+in+`)
				ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING `+outboxColumns, args...)
		return err
	})
	if err != nil {
		return nil, s.wrap(err, "claim outbox")
	}
	// RETURNING gives no order: oldest due first for the caller.
	slices.SortFunc(out, func(a, b store.OutboxMessage) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeliveredOutbox marks a held message delivered.
func (s *Store) DeliveredOutbox(ctx context.Context, id, owner string, now time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET status = 'delivered', done_at = ?, lease_until = NULL, last_error = '', payload = ?
		WHERE id = ? AND lease_owner = ? AND status = 'pending'`, s.time(now), []byte{}, id, owner)
	if err != nil {
		return s.wrap(err, "outbox %s delivered", id)
	}
	return nil
}

// RetryOutbox reschedules a held message, or gives it up when next is zero.
func (s *Store) RetryOutbox(ctx context.Context, id, owner, lastErr string, next, now time.Time) error {
	if len(lastErr) > 500 {
		lastErr = lastErr[:500]
	}
	var err error
	if next.IsZero() {
		err = s.execOne(ctx, `UPDATE outbox SET status = 'failed', done_at = ?, lease_until = NULL, last_error = ?, payload = ?
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`, s.time(now), lastErr, []byte{}, id, owner)
	} else {
		err = s.execOne(ctx, `UPDATE outbox SET next_attempt_at = ?, lease_until = NULL, last_error = ?
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`, s.time(next), lastErr, id, owner)
	}
	if err != nil {
		return s.wrap(err, "outbox %s retry", id)
	}
	return nil
}

// CountOutbox counts messages by kind and state.
func (s *Store) CountOutbox(ctx context.Context) ([]store.OutboxCount, error) {
	out, err := rows(ctx, s, s.db, func(r scanner) (*store.OutboxCount, error) {
		var c store.OutboxCount
		return &c, r.Scan(&c.Kind, &c.Status, &c.Count)
	}, `SELECT kind, status, COUNT(*) FROM outbox GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, s.wrap(err, "count outbox")
	}
	return out, nil
}

// PurgeOutbox deletes messages done before t.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM outbox WHERE status <> 'pending' AND done_at < ?`, s.time(before))
	if err != nil {
		return 0, s.wrap(err, "purge outbox")
	}
	return n, nil
}

var _ store.Outbox = (*Store)(nil)
