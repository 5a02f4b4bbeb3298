package sqlstore

import (
	"context"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Marks.

const putMark = `INSERT INTO marks (kind, id, until, data) VALUES (?, ?, ?, ?)
	ON CONFLICT (kind, id) DO UPDATE SET until = excluded.until, data = excluded.data`

func (s *Store) markArgs(m store.Mark) []any {
	data := m.Data
	if data == nil {
		data = []byte{}
	}
	return []any{m.Kind, m.ID, s.time(norm(m.Until)), data}
}

// PutMark stores m, replacing the Until of an existing mark.
func (s *Store) PutMark(ctx context.Context, m store.Mark) error {
	_, err := s.exec(ctx, putMark, s.markArgs(m)...)
	if err != nil {
		return s.wrap(err, "put mark %s", m.Kind)
	}
	return nil
}

// ListMarks returns the marks in force at now.
func (s *Store) ListMarks(ctx context.Context, now time.Time) ([]store.Mark, error) {
	out, err := rows(ctx, s, s.db, func(r scanner) (*store.Mark, error) {
		var m store.Mark
		return &m, r.Scan(&m.Kind, &m.ID, scanTime(&m.Until), &m.Data)
	}, `SELECT kind, id, until, data FROM marks WHERE until > ? ORDER BY kind, id`, s.time(norm(now)))
	if err != nil {
		return nil, s.wrap(err, "list marks")
	}
	return out, nil
}

// PurgeMarks deletes the marks that ended before t.
func (s *Store) PurgeMarks(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM marks WHERE until < ?`, s.time(norm(before)))
	if err != nil {
		return 0, s.wrap(err, "purge marks")
	}
	return n, nil
}
