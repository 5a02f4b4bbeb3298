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
// per wall second: 1 = one core busy throughout).
type pacedPass struct {
	p50, p99, load, driverLoad float64
	errs                       int
}

// driverBusy is the driver's load above which a paced pass's latencies
// are its own queue's more than the server's: its one core is nearly
// full, and an operation due waits for the driver to send it.
const driverBusy = 0.85

// loadSlack is how far a paced pass's server load may be from the load
// it was meant to put on the server before it is run again or flagged.
// The rescaled pass assumes the load follows the rate; where an
// operation's cost depends on how many run at once (a group commit),
// the second pass may still be off, and is flagged.
const loadSlack = 0.1

// pace runs paced passes (pass runs one at a rate): at rate first, meant
// to load the server at want; when the load it measured is more than
// loadSlack off (the machine's speed changed since the closed loop
// measured the rate), once more at the rate scaled by want over that
// load. It returns the last pass, with the errors of both.
func pace(rate, want float64, pass func(rate float64) pacedPass) pacedPass {
	p := pass(rate)
	if p.load > 0 && math.Abs(p.load-want) > loadSlack {
		errs := p.errs
		p = pass(rate * want / p.load)
		p.errs += errs
	}
	return p
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
