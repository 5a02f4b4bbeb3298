package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
)

// group commits the write transactions of concurrent callers together
// (SQLite): one database transaction holds each caller's writes in a
// savepoint of its own and ends in one commit, so one fsync makes them
// all durable instead of one fsync each — under load, most of what a
// write costs. Each caller still gets its own outcome, and only once its
// writes are durable: a write that fails is rolled back to its savepoint
// and leaves the others in the batch alone.
//
// The batches are relayed (relay): the leader takes whatever is queued,
// its own write first.
type group struct {
	relay[*pendingWrite]

	commits atomic.Int32 // transactions begun (tests)

	beforeCommit func() // tests: runs before each commit
}

type pendingWrite struct {
	relayTurn // done is closed with err set
	ctx       context.Context
	fn        func(tx *sql.Tx) error
	err       error
}

// errBatchBroken is what the writes of a batch get when the transaction
// itself failed (SQLite rolled it back whole, or a savepoint could not be
// taken): nothing of it was committed.
var errBatchBroken = errors.New("write batch rolled back")

func (g *group) do(ctx context.Context, s *Store, fn func(tx *sql.Tx) error) error {
	p := &pendingWrite{relayTurn: newTurn(), ctx: ctx, fn: fn}
	if !g.wait(p) {
		return p.err
	}
	defer g.handOver()
	s.commitBatch(g.take(0))
	return p.err
}

// commitBatch runs the writes of batch in one transaction and closes
// each one's done channel with its outcome.
func (s *Store) commitBatch(batch []*pendingWrite) {
	var tx *sql.Tx
	defer func() {
		// A panic outside the writes themselves (runWrite catches theirs)
		// leaves nothing committed and nobody told otherwise.
		r := recover()
		if r != nil && tx != nil {
			tx.Rollback()
		}
		for _, p := range batch {
			if r != nil && p.err == nil {
				p.err = fmt.Errorf("%w: %v", errBatchBroken, r)
			}
			close(p.done)
		}
		if r != nil {
			panic(r)
		}
	}()
	// The transaction is everyone's: no single caller's cancellation ends
	// it (their statements run without it too, see query), the store's
	// timeout does.
	ctx, cancel := s.bound(context.Background())
	defer cancel()
	s.d.writeMu.Lock() // a dialect with a group has one writer: no migration meanwhile
	defer s.d.writeMu.Unlock()
	fail := func(ps []*pendingWrite, err error) {
		for _, p := range ps {
			if p.err == nil {
				p.err = err
			}
		}
	}
	var err error
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		fail(batch, fmt.Errorf("begin: %w", err))
		return
	}
	s.d.group.commits.Add(1)
	savepoints := len(batch) > 1
	var written []*pendingWrite
	for i, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			continue
		}
		if !savepoints {
			if p.err = runWrite(p.fn, tx); p.err == nil {
				written = append(written, p)
			}
			continue
		}
		err := savepoint(ctx, tx, "SAVEPOINT w")
		if err == nil {
			if p.err = runWrite(p.fn, tx); p.err != nil {
				err = savepoint(ctx, tx, "ROLLBACK TO w")
			}
		}
		if err == nil {
			err = savepoint(ctx, tx, "RELEASE w")
		}
		if err != nil {
			// SQLite rolls a transaction back whole on some errors (I/O,
			// a full disk): the writes before this one went with it.
			tx.Rollback()
			fail(append(written, batch[i:]...), fmt.Errorf("%w: %v", errBatchBroken, err))
			return
		}
		if p.err == nil {
			written = append(written, p)
		}
	}
	if len(written) == 0 {
		tx.Rollback()
		return
	}
	if f := s.d.group.beforeCommit; f != nil {
		f()
	}
	if err := tx.Commit(); err != nil {
		fail(written, fmt.Errorf("commit: %w", err))
	}
}

func savepoint(ctx context.Context, tx *sql.Tx, stmt string) error {
	_, err := tx.ExecContext(ctx, stmt)
	return err
}

// runWrite runs one caller's writes; a panic in them is that caller's
// error, not the end of everyone else's batch.
func runWrite(fn func(tx *sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return fn(tx)
}
