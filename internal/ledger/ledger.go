// Package ledger writes the data-release ledger: one entry (store.LedgerEntry)
// each time personal data leaves CitizenID for a portal — an ID token, a
// userinfo answer, a SAML assertion, an introspection answer that carries
// claims. It owns the write path only; the entries live in the store
// (store.Ledger) and the pages that read them in internal/account and
// internal/admin.
//
// Ordering, the one rule: an entry is written before the response leaves.
// The protocol code calls Record with the entry and sends the response only
// when Record returned nil, that is once the entry's transaction has
// committed. So:
//   - a crash before the commit means nothing was released (the response
//     was not yet written);
//   - a crash after the commit and before the response loses a response,
//     never a record;
//   - when recording fails (the database is down, the caller's deadline
//     passes) the endpoint answers a server error and releases nothing:
//     releasing without a record is what the law forbids. An entry whose
//     caller gave up may still commit later; a record without a release is
//     the harmless direction.
//
// Cost: concurrent Record calls are committed together (group commit). One
// goroutine takes the first waiting entry, adds every other entry already
// queued (up to MaxBatch), and commits them in one transaction; entries that
// arrive meanwhile queue for the next batch. Under load a release costs a
// share of one commit, not a commit of its own; one client at a time pays
// a whole commit (README, "What the data-release ledger costs"). Linger
// trades latency for fewer commits; it is off by default until measured on
// production hardware. Not done: for the refresh grant, writing the
// entry in the refresh-token rotation's transaction (it needs the claims
// filled before the rotation, which the library orders the other way).
// Relaxing durability (SQLite synchronous=NORMAL, PostgreSQL
// synchronous_commit=off) would break "never lost on a crash" and is not
// an option.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Appender is the slice of storage the writer needs.
type Appender interface {
	AppendLedger(ctx context.Context, entries []store.LedgerEntry) error
}

// Options configures a Writer.
type Options struct {
	Store Appender
	Log   *slog.Logger
	// MaxBatch bounds the entries of one transaction; default 100 (the
	// SQL store writes up to 100 in one statement).
	MaxBatch int
	// Queue bounds the entries waiting for a batch; a Record that finds
	// the queue full waits (until its context ends). Default 4096.
	Queue int
	// Linger, when positive, is how long a batch that is not full waits
	// for more entries before it commits: fewer commits under load, that
	// much more latency per release. Zero commits at once.
	Linger time.Duration
	// CommitTimeout bounds one batch's transaction; default 10 s.
	CommitTimeout time.Duration
	// Now stamps entries whose Time is zero; nil means time.Now.
	Now func() time.Time
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("ledger: writer closed")

// Writer is the group-commit writer. It is safe for concurrent use.
type Writer struct {
	o    Options
	reqs chan *request
	mu   sync.RWMutex // guards closed against Record's send
	// closed is set by Close; done is closed when the loop has drained.
	closed bool
	done   chan struct{}
}

type request struct {
	ctx   context.Context
	entry store.LedgerEntry
	err   chan error // buffered: the loop never waits for a caller
}

// New starts a writer; Close stops it.
func New(o Options) *Writer {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 100
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{o: o, reqs: make(chan *request, o.Queue), done: make(chan struct{})}
	go w.loop()
	return w
}

// Record writes e and returns nil once it is committed; only then may the
// caller release the data e describes. It returns the store's error (every
// entry of a failed batch gets it), ctx's error when ctx ends first, or
// ErrClosed. An empty ID is filled with a random one, a zero Time with the
// writer's clock.
func (w *Writer) Record(ctx context.Context, e store.LedgerEntry) error {
	if e.CitizenID == "" || e.Portal == "" {
		return errors.New("ledger: an entry needs a citizen and a portal")
	}
	if e.ID == "" {
		e.ID = session.RandomToken(16)
	}
	if e.Time.IsZero() {
		e.Time = w.o.Now()
	}
	r := &request{ctx: ctx, entry: e, err: make(chan error, 1)}
	if err := w.enqueue(r); err != nil {
		return err
	}
	select {
	case err := <-r.err:
		return err
	case <-ctx.Done():
		return fmt.Errorf("ledger: waiting for the commit: %w", context.Cause(ctx))
	}
}

func (w *Writer) enqueue(r *request) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.reqs <- r:
		return nil
	case <-r.ctx.Done():
		return fmt.Errorf("ledger: queue full: %w", context.Cause(r.ctx))
	}
}

// Close stops taking entries, commits every entry already queued, and
// returns when the last batch is done. It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

// loop collects batches: it blocks for the first entry, yields once so that
// callers already runnable can queue theirs (on one core nobody else runs
// while the writer does: without it each entry would be a batch of its
// own), takes whatever else is queued (up to MaxBatch) without waiting, and
// commits.
func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]*request, 0, w.o.MaxBatch)
	var linger *time.Timer
	if w.o.Linger > 0 {
		linger = time.NewTimer(w.o.Linger)
		linger.Stop()
	}
	for first := range w.reqs {
		batch = append(batch[:0], first)
		runtime.Gosched()
		batch = w.collect(batch, nil)
		if linger != nil && len(batch) < w.o.MaxBatch {
			linger.Reset(w.o.Linger)
			batch = w.collect(batch, linger.C)
			linger.Stop()
		}
		w.commit(batch)
	}
}

// collect adds queued entries to batch until it is full, the queue is
// empty (until is nil) or until fires, or the queue is closed.
func (w *Writer) collect(batch []*request, until <-chan time.Time) []*request {
	for len(batch) < w.o.MaxBatch {
		if until == nil {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					return batch
				}
				batch = append(batch, r)
			default:
				return batch
			}
			continue
		}
		select {
		case r, ok := <-w.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-until:
			return batch
		}
	}
	return batch
}

// commit writes the batch's entries whose callers still wait; each caller
// gets the outcome.
func (w *Writer) commit(batch []*request) {
	entries := make([]store.LedgerEntry, 0, len(batch))
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.err <- context.Cause(r.ctx) // the caller gave up: nothing was released, nothing to record
			continue
		}
		entries = append(entries, r.entry)
		live = append(live, r)
	}
	if len(entries) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.o.CommitTimeout)
	err := w.o.Store.AppendLedger(ctx, entries)
	cancel()
	if err != nil {
		w.o.Log.Error("ledger: commit failed; the releases are refused", "entries", len(entries), "err", err)
		err = fmt.Errorf("ledger: record %d entries: %w", len(entries), err)
	}
	for _, r := range live {
		r.err <- err
	}
}

// Nop records nothing; benchmarks compare against it. Never use it to serve.
type Nop struct{}

// Record does nothing.
func (Nop) Record(context.Context, store.LedgerEntry) error { return nil }
