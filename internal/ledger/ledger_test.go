package ledger

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlstore"
)

// gate is an Appender whose commits wait for a signal, so a test can
// hold one batch open while others queue. It records each batch.
type gate struct {
	mu      sync.Mutex
	batches [][]store.LedgerEntry
	hold    chan struct{} // when non-nil, each commit waits for a receive from it
	started chan struct{} // signalled when a commit starts
	fail    error
}

func (g *gate) AppendLedger(ctx context.Context, entries []store.LedgerEntry) error {
	if g.started != nil {
		g.started <- struct{}{}
	}
	if g.hold != nil {
		<-g.hold
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != nil {
		return g.fail
	}
	g.batches = append(g.batches, append([]store.LedgerEntry(nil), entries...))
	return nil
}

func (g *gate) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for _, b := range g.batches {
		out = append(out, len(b))
	}
	return out
}

func entry(citizen string) store.LedgerEntry {
	return store.LedgerEntry{CitizenID: citizen, Portal: "oidc:tax", PortalName: "Thuế", Protocol: store.LedgerOIDC,
		Endpoint: store.EndpointToken, Attributes: []string{"name"}, Level: 2}
}

func TestBatching(t *testing.T) {
	g := &gate{hold: make(chan struct{}), started: make(chan struct{}, 16)}
	w := New(Options{Store: g, MaxBatch: 4})
	defer w.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	// The first entry opens a batch that the gate holds.
	wg.Go(func() { errs <- w.Record(ctx, entry("c0")) })
	<-g.started
	// Nine more queue meanwhile: they go in batches of at most four.
	for range 9 {
		wg.Go(func() { errs <- w.Record(ctx, entry("c")) })
	}
	for len(w.reqs) < 9 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		for range 4 {
			g.hold <- struct{}{}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("record: got %v, want nil", err)
		}
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"batches", len(g.sizes()), 4},
		{"batch sizes", g.sizes(), []int{1, 4, 4, 1}},
	}
	for _, tt := range tests {
		if !equal(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	for _, b := range g.batches {
		for _, e := range b {
			if e.ID == "" || e.Time.IsZero() {
				t.Errorf("entry %+v: got an empty ID or time, want them filled", e)
			}
		}
	}
}

// On one core, callers that are all runnable at once share a batch: the
// writer lets them queue before it collects.
func TestBatchingOneCore(t *testing.T) {
	g := &gate{}
	w := New(Options{Store: g})
	defer w.Close()
	ctx := t.Context()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const rounds, callers = 10, 8
	for range rounds {
		start := make(chan struct{})
		errs := make(chan error, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				<-start
				errs <- w.Record(ctx, entry("c"))
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("record: got %v, want nil", err)
			}
		}
	}
	// One batch per round, now and then two (the scheduler runs the
	// yielded writer first on every 61st turn); without the yield, one
	// per entry.
	if got := len(g.sizes()); got > rounds+rounds/2 {
		t.Errorf("%d batches for %d rounds of %d callers released together (sizes %v), want about %d", got, rounds, callers, g.sizes(), rounds)
	}
}

func equal(a, b any) bool {
	as, aok := a.([]int)
	bs, bok := b.([]int)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestStoreFailurePropagates(t *testing.T) {
	boom := errors.New("database down")
	g := &gate{fail: boom}
	w := New(Options{Store: g})
	defer w.Close()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := w.Record(t.Context(), entry("c")); !errors.Is(err, boom) {
				t.Errorf("record on a failing store: got %v, want %v", err, boom)
			}
		})
	}
	wg.Wait()
}

func TestDeadline(t *testing.T) {
	g := &gate{hold: make(chan struct{})}
	w := New(Options{Store: g})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := w.Record(ctx, entry("c"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("record past its deadline: got %v, want %v", err, context.DeadlineExceeded)
	}
	close(g.hold)
	w.Close()
	// An entry whose caller already gave up when its batch formed is
	// skipped: its caller released nothing.
	g2 := &gate{}
	w2 := New(Options{Store: g2})
	defer w2.Close()
	done, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if err := w2.Record(done, entry("c")); !errors.Is(err, context.Canceled) {
		t.Errorf("record with a cancelled context: got %v, want %v", err, context.Canceled)
	}
}

func TestCloseDrains(t *testing.T) {
	g := &gate{hold: make(chan struct{}), started: make(chan struct{}, 16)}
	w := New(Options{Store: g, MaxBatch: 100})
	var wg sync.WaitGroup
	wg.Go(func() { w.Record(t.Context(), entry("first")) })
	<-g.started
	for range 5 {
		wg.Go(func() {
			if err := w.Record(t.Context(), entry("queued")); err != nil {
				t.Errorf("queued record: got %v, want nil", err)
			}
		})
	}
	for len(w.reqs) < 5 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	g.hold <- struct{}{}
	g.hold <- struct{}{}
	<-closed
	wg.Wait()
	if got, want := g.sizes(), []int{1, 5}; !equal(got, want) {
		t.Errorf("batches committed by Close: got %v, want %v", got, want)
	}
	if err := w.Record(t.Context(), entry("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("record after Close: got %v, want %v", err, ErrClosed)
	}
	w.Close() // twice is fine
}

// TestSQLite writes through the real store from many goroutines: every
// entry is there once, in fewer transactions than entries.
func TestSQLite(t *testing.T) {
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := New(Options{Store: st})
	const n = 200
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := w.Record(t.Context(), entry("cit-sqlite")); err != nil {
				t.Errorf("record: %v", err)
			}
		})
	}
	wg.Wait()
	w.Close()
	got, err := st.ListLedger(t.Context(), "cit-sqlite", store.LedgerFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("entries: got %d, want %d", len(got), n)
	}
}

func TestPurge(t *testing.T) {
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	old, recent := entry("c"), entry("c")
	old.ID, old.Time = "old", now.Add(-6*365*24*time.Hour)
	recent.ID, recent.Time = "recent", now.Add(-time.Hour)
	if err := st.AppendLedger(t.Context(), []store.LedgerEntry{old, recent}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		RunPurge(ctx, st, 5*365*24*time.Hour, time.Hour, func() time.Time { return now }, discard())
		close(done)
	}()
	for {
		got, _ := st.ListLedger(t.Context(), "c", store.LedgerFilter{})
		if len(got) == 1 {
			if got[0].ID != "recent" {
				t.Errorf("left: got %s, want recent", got[0].ID)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// With a linger, entries recorded one after another within it share a
// commit; without, each commits at once.
func TestLinger(t *testing.T) {
	tests := []struct {
		name   string
		linger time.Duration
		want   []int
	}{
		{"linger", time.Second, []int{3}},
		{"none", 0, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gate{}
			w := New(Options{Store: g, Linger: tt.linger, MaxBatch: 3})
			defer w.Close()
			if tt.linger == 0 {
				for range 3 {
					if err := w.Record(t.Context(), entry("c")); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				var wg sync.WaitGroup
				for range 3 {
					wg.Go(func() {
						if err := w.Record(t.Context(), entry("c")); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait() // returns before the second only because the batch filled up
			}
			if got := g.sizes(); !equal(got, tt.want) {
				t.Errorf("batches: got %v, want %v", got, tt.want)
			}
		})
	}
}
