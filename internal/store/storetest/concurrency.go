package storetest

import (
	"errors"
	"sync"
	"testing"
)

// atOnce runs fn(0) … fn(n-1) on n goroutines released together, and
// waits for them all.
func atOnce(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// errLost is what a compare-and-set fn returns when the value it read
// changed before it ran.
var errLost = errors.New("lost")

// compareAndSetRounds checks that a store serialises an Update(fn): each
// round, n callers read the same counter (read), then each tries to raise
// it by one with cas(seen) only if it still holds what they read (cas's fn
// returns errLost otherwise). Exactly one must win each round; without
// serialisation several would see the old value in fn. The counter starts
// at first and must end at first+rounds.
func compareAndSetRounds(t *testing.T, rounds, n int, first int64, read func() (int64, error), cas func(seen int64) error) {
	t.Helper()
	for round := range rounds {
		seen := make([]int64, n)
		errs := make([]error, n)
		var reads, wg sync.WaitGroup
		start := make(chan struct{})
		reads.Add(n)
		for i := range n {
			wg.Go(func() {
				v, err := read()
				seen[i] = v
				reads.Done()
				if err != nil {
					errs[i] = err
					return
				}
				<-start
				errs[i] = cas(v)
			})
		}
		reads.Wait()
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, errLost):
				t.Errorf("round %d update %d: got error %v, want nil or the fn's error", round, i, err)
			}
			if want := first + int64(round); seen[i] != want {
				t.Errorf("round %d caller %d read %d, want %d", round, i, seen[i], want)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: successful updates got %d, want 1", round, winners)
		}
	}
	got, err := read()
	must(t, "read after the rounds", err)
	if got != first+int64(rounds) {
		t.Errorf("after %d rounds: got %d, want %d", rounds, got, first+int64(rounds))
	}
}
