package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// paced runs sc open-loop at rate operations per second for d: each
// operation is scheduled on a fixed clock and its latency counts from
// when it was due, so queueing at the server shows (closed-loop workers
// only ever wait for themselves). It returns p50 and p99 in ms and the
// errors. At most 64 operations are outstanding; one due when all are
// busy waits for a worker, and that wait counts too.
func (sc scenario) paced(ctx context.Context, ws []*pw, rate float64, d time.Duration) (p50, p99 float64, errs int) {
	if rate <= 0 || len(ws) == 0 {
		return 0, 0, 0
	}
	interval := time.Duration(float64(time.Second) / rate)
	n := min(int(d/interval), 1_000_000)
	due := make(chan time.Time, 64)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for at := range due {
				_, err := sc.op(ctx, w)
				el := time.Since(at)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					lat = append(lat, el)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		due <- at
	}
	close(due)
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		return 0, 0, errs
	}
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	return pct(.5), pct(.99), errs
}
