package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

var email = []string{"email"}

func newMessages(n int, due time.Time) []store.OutboxMessage {
	out := make([]store.OutboxMessage, n)
	for i := range out {
		out[i] = store.OutboxMessage{ID: newID("ob"), Kind: "email", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			CreatedAt: due, NextAttemptAt: due.Add(time.Duration(i) * time.Microsecond)}
	}
	return out
}

func testOutbox(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := newStore(t)
	msgs := newMessages(3, base)
	must(t, "enqueue", s.EnqueueOutbox(ctx, msgs))

	if got, err := s.ClaimOutbox(ctx, "a", email, base.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim before due: got %d, %v, want none", len(got), err)
	}
	got, err := s.ClaimOutbox(ctx, "a", email, base.Add(time.Second), time.Minute, 2)
	must(t, "claim", err)
	if len(got) != 2 || got[0].ID != msgs[0].ID || got[1].ID != msgs[1].ID || got[0].Attempts != 1 || string(got[1].Payload) != `{"n":1}` {
		t.Fatalf("claim: got %+v, want the two oldest, attempt 1", got)
	}
	// Leased: nobody else gets them until the lease ends.
	rest, err := s.ClaimOutbox(ctx, "b", email, base.Add(2*time.Second), time.Minute, 10)
	must(t, "claim the rest", err)
	if len(rest) != 1 || rest[0].ID != msgs[2].ID {
		t.Fatalf("second claimer: got %+v, want only the third", rest)
	}
	// Only the holder marks.
	wantErr(t, "delivered by another", s.DeliveredOutbox(ctx, got[0].ID, "b", base), store.ErrNotFound)
	must(t, "delivered", s.DeliveredOutbox(ctx, got[0].ID, "a", base.Add(3*time.Second)))
	wantErr(t, "delivered twice", s.DeliveredOutbox(ctx, got[0].ID, "a", base), store.ErrNotFound)
	// A retry is due again later; a failure is given up.
	must(t, "retry", s.RetryOutbox(ctx, got[1].ID, "a", "connection refused", base.Add(time.Hour), base))
	must(t, "fail", s.RetryOutbox(ctx, rest[0].ID, "b", "gateway said 400", time.Time{}, base.Add(3*time.Second)))
	if again, _ := s.ClaimOutbox(ctx, "c", email, base.Add(30*time.Minute), time.Minute, 10); len(again) != 0 {
		t.Errorf("claim before the retry is due: got %d", len(again))
	}
	again, err := s.ClaimOutbox(ctx, "c", email, base.Add(2*time.Hour), time.Minute, 10)
	must(t, "claim the retry", err)
	if len(again) != 1 || again[0].ID != got[1].ID || again[0].Attempts != 2 || again[0].LastError != "connection refused" {
		t.Fatalf("retry claimed: got %+v", again)
	}
	// An expired lease is claimable by another worker.
	taken, err := s.ClaimOutbox(ctx, "d", email, base.Add(2*time.Hour+2*time.Minute), time.Minute, 10)
	must(t, "claim an expired lease", err)
	if len(taken) != 1 || taken[0].Attempts != 3 {
		t.Fatalf("expired lease: got %+v", taken)
	}
	wantErr(t, "the old holder marks", s.DeliveredOutbox(ctx, taken[0].ID, "c", base), store.ErrNotFound)

	counts, err := s.CountOutbox(ctx)
	must(t, "count", err)
	want := map[string]int{"delivered": 1, "failed": 1, "pending": 1}
	for _, c := range counts {
		if c.Kind != "email" || want[c.Status] != c.Count {
			t.Errorf("count %+v, want %v", c, want)
		}
		delete(want, c.Status)
	}
	if len(want) != 0 {
		t.Errorf("counts missing %v", want)
	}
	n, err := s.PurgeOutbox(ctx, base.Add(time.Minute))
	must(t, "purge", err)
	if n != 2 {
		t.Errorf("purge: got %d, want the delivered and the failed one", n)
	}
	if err := s.EnqueueOutbox(ctx, []store.OutboxMessage{{ID: newID("ob"), Kind: "email"}, {ID: msgs[1].ID, Kind: "email"}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("enqueue with a duplicate id: got %v, want ErrConflict", err)
	}

	// Workers claim their kinds only; a portal's messages are listed for it.
	logout := []store.OutboxMessage{
		{ID: newID("ob"), Kind: "oidc_logout", Target: "portal", CreatedAt: base, Payload: []byte("1")},
		{ID: newID("ob"), Kind: "oidc_logout", Target: "portal", CreatedAt: base.Add(time.Second), Payload: []byte("2")},
		{ID: newID("ob"), Kind: "oidc_logout", Target: "other", CreatedAt: base, Payload: []byte("3")},
	}
	must(t, "enqueue logouts", s.EnqueueOutbox(ctx, logout))
	if got, err := s.ClaimOutbox(ctx, "e", []string{"sms"}, base.Add(time.Hour), time.Minute, 10); err != nil || len(got) != 0 {
		t.Errorf("claim sms: got %d (%v), want none", len(got), err)
	}
	listed, err := s.ListOutbox(ctx, "oidc_logout", "portal", 10)
	must(t, "list outbox", err)
	if len(listed) != 2 || listed[0].ID != logout[1].ID || listed[1].Target != "portal" {
		t.Errorf("list for portal: got %+v, want its two, newest first", listed)
	}
	got2, err := s.ClaimOutbox(ctx, "e", []string{"oidc_logout", "sms"}, base.Add(3*time.Hour), time.Minute, 10)
	must(t, "claim logouts", err)
	if len(got2) != 3 {
		t.Errorf("claim logouts: got %d, want 3", len(got2))
	}
}

// Two workers racing over the same messages each claim every message
// once between them.
func testOutboxConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := newStore(t)
	must(t, "enqueue", s.EnqueueOutbox(ctx, newMessages(50, base)))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, owner := range []string{"node-a", "node-b"} {
		wg.Go(func() {
			for range 60 {
				got, err := s.ClaimOutbox(ctx, owner, email, base.Add(time.Second), time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Errorf("claimed %d distinct messages, want 50", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s claimed %d times", id, n)
		}
	}
}
