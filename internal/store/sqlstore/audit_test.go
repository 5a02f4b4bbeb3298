package sqlstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/testenv"
)

// Concurrent audit appends on PostgreSQL are written in batches, one
// transaction each; an event the database refuses fails alone, a panic
// fails its batch, and the chain stays whole.
func TestAuditQueue(t *testing.T) {
	s := migrated(t, openPostgres(t, testenv.PostgresURL(t)))
	q := s.d.audits
	ctx := t.Context()
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

	// The first append holds its batch while the others queue.
	var mu sync.Mutex
	var sizes []int
	hold, started := make(chan struct{}), make(chan struct{})
	q.beforeBatch = func(n int) {
		mu.Lock()
		sizes = append(sizes, n)
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			close(started)
			<-hold
		}
	}
	first := make(chan error, 1)
	go func() {
		first <- s.AppendAudit(ctx, &store.AuditEvent{Time: at, Actor: "system", Action: "test.first"})
	}()
	<-started
	const n = 20
	const refused = 7 // at a time PostgreSQL cannot hold
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e := &store.AuditEvent{Time: at, Actor: fmt.Sprintf("queued %02d", i), Action: "test.queued"}
			if i == refused {
				e.Time = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			errs[i] = s.AppendAudit(ctx, e)
		})
	}
	for range 500 {
		queued := q.queued()
		if queued == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first append: %v", err)
	}
	for i, err := range errs {
		if (err != nil) != (i == refused) {
			t.Errorf("append %d: got error %v, want one only for the event in the year 300000", i, err)
		}
	}
	if want := []int{1, n, n - 1}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("batches: got sizes %v, want %v (the held one, the queued ones, again without the refused event)", sizes, want)
	}

	// A panic fails its batch and leaves the queue free.
	q.beforeBatch = func(int) { panic("test panic") }
	if err := s.AppendAudit(ctx, &store.AuditEvent{Time: at, Actor: "system", Action: "test.panic"}); err == nil {
		t.Error("append whose batch panicked: got nil error")
	}
	q.beforeBatch = nil

	// What PostgreSQL's text cannot hold is recorded as U+FFFD.
	last := &store.AuditEvent{Time: at, Actor: "client:a\x00b", Action: "test.after", Details: map[string]string{"k\xff": "v\x00"}}
	if err := s.AppendAudit(ctx, last); err != nil {
		t.Fatalf("append after a panic, with a NUL: %v", err)
	}

	events, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n+1 || last.Seq != int64(n+1) {
		t.Errorf("log: got %d events, the last with seq %d, want %d: the first, %d queued, the one after the panic", len(events), last.Seq, n+1, n-1)
	}
	if err := store.VerifyAuditChain(events); err != nil {
		t.Error(err)
	}
	if e := events[len(events)-1]; e.Actor != "client:a\uFFFDb" || e.Details["k\uFFFD"] != "v\uFFFD" {
		t.Errorf("event with a NUL and an invalid byte: got actor %q details %q", e.Actor, e.Details)
	}
}
