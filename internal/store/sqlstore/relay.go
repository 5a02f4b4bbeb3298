package sqlstore

import (
	"runtime"
	"sync"
)

// relay elects one of many concurrent callers at a time to do the work of
// all those waiting (the group commit, the audit queue). The first to
// find nobody working leads; once its batch is done, the lead passes to
// the first caller that queued meanwhile, so nobody waits for more than
// the batch before its own.
type relay[T interface{ turn() *relayTurn }] struct {
	mu      sync.Mutex
	busy    bool
	waiting []T
}

// relayTurn is a caller's place in a relay.
type relayTurn struct {
	done chan struct{} // closed once the caller's work is done
	lead chan struct{} // closed when the caller is to lead the next batch
}

func newTurn() relayTurn { return relayTurn{done: make(chan struct{}), lead: make(chan struct{})} }

func (t *relayTurn) turn() *relayTurn { return t }

// wait queues t and returns true when t is to lead, or false once a
// leader has done t's work.
func (r *relay[T]) wait(t T) (lead bool) {
	r.mu.Lock()
	r.waiting = append(r.waiting, t)
	lead = !r.busy
	r.busy = true
	r.mu.Unlock()
	if lead {
		return true
	}
	select {
	case <-t.turn().done:
		return false
	case <-t.turn().lead:
		return true
	}
}

// take removes and returns the leader's batch: up to max waiting callers
// (all when max is 0), the leader first.
//
// It yields first, so that the callers that are runnable reach the queue:
// on a server with one core nobody else runs while the leader does, and
// without it the leader would go alone and the others would each queue for
// a batch of their own. (Group commit, a refresh grant under load on one
// core: 1.03 fsync per grant without the yield, 0.22 with it.)
func (r *relay[T]) take(max int) []T {
	runtime.Gosched()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.waiting)
	if max > 0 {
		n = min(n, max)
	}
	batch := r.waiting[:n:n]
	r.waiting = r.waiting[n:]
	return batch
}

// handOver gives the lead to the first caller queued during the batch
// that just ended, or frees the relay. Leaders defer it: a batch that
// panicked must not leave the callers queued behind it waiting forever.
func (r *relay[T]) handOver() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) > 0 {
		close(r.waiting[0].turn().lead)
	} else {
		r.busy = false
	}
}

// queued is how many callers wait (tests).
func (r *relay[T]) queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting)
}
