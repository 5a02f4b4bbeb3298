package main

import (
	"context"
	"math"
	"os"
	"slices"
	"sync"
	"time"
)

// pacedPass is what one open-loop pass measured: p50 and p99 in ms, the
// errors, and the loads of the server and of this driver (CPU seconds
// per wall second: 1 = one core busy throughout). pace adds the rate it
// ran at and the closed-loop rates right before and right after it.
type pacedPass struct {
	p50, p99, load, driverLoad float64
	errs                       int
	rate, before, after        float64
}

// driverBusy is the driver's load above which a paced pass's latencies
// are its own queue's more than the server's: its one core is nearly
// full, and an operation due waits for the driver to send it.
const driverBusy = 0.85

// rateSlack is how far the closed-loop rates right before and right
// after a paced pass may differ before the pass is run again or flagged:
// the machine's speed changed while it ran, and 70 % of the rate before
// may have been more than the server could do during it.
const rateSlack = 0.15

// pace runs a paced pass (pass runs one at a rate) at 70 % of rate, the
// closed-loop rate measured right before it, then measures the
// closed-loop rate again (probe, which returns it and its errors). When
// the two are more than rateSlack apart, it runs the pass once more at
// 70 % of the new rate and probes again. It returns the last pass, with
// the errors of all.
//
// The rate is the "70 % of the maximum rate" as such: the
// server's load during the pass is reported, not aimed at, since an
// operation may cost the server more at a lower rate (on SQLite fewer
// writes share a commit).
func pace(rate float64, pass func(rate float64) pacedPass, probe func() (float64, int)) pacedPass {
	errs := 0
	for try := 0; ; try++ {
		p := pass(0.7 * rate)
		after, perrs := probe()
		errs += p.errs + perrs
		p.rate, p.before, p.after = 0.7*rate, rate, after
		if try == 1 || !ratesApart(rate, after) {
			p.errs = errs
			return p
		}
		rate = after
	}
}

// ratesApart reports whether two closed-loop rates differ by more than
// rateSlack; a rate of 0 (nothing measured) is not compared.
func ratesApart(a, b float64) bool {
	return a > 0 && b > 0 && math.Abs(a-b)/min(a, b) > rateSlack
}

// paced runs sc open-loop at rate operations per second for d: each
// operation is scheduled on a fixed clock and its latency counts from
// when it was due, so queueing at the server shows (closed-loop workers
// only ever wait for themselves). At most 64 operations are outstanding;
// one due when all are busy waits for a worker, and that wait counts
// too. The server's load is read from the CPU time of process pid.
func (sc scenario) paced(ctx context.Context, ws []*pw, pid int, rate float64, d time.Duration) (out pacedPass) {
	if rate <= 0 || len(ws) == 0 {
		return out
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
					out.errs++
				} else {
					lat = append(lat, el)
				}
				mu.Unlock()
			}
		})
	}
	cpu0, self0 := cpuSeconds(pid), cpuSeconds(os.Getpid())
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
	if wall := time.Since(start).Seconds(); wall > 0 {
		out.load = (cpuSeconds(pid) - cpu0) / wall
		out.driverLoad = (cpuSeconds(os.Getpid()) - self0) / wall
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return out
	}
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	out.p50, out.p99 = pct(.5), pct(.99)
	return out
}
