package ledger

import (
	"context"
	"log/slog"
	"time"
)

// Purger is the slice of storage the retention purge needs.
type Purger interface {
	PurgeLedger(ctx context.Context, before time.Time) (int64, error)
}

// RunPurge deletes entries older than retention now and then every period
// until ctx ends. Every node runs it; two purges at once delete each row
// once and are otherwise harmless.
func RunPurge(ctx context.Context, st Purger, retention, period time.Duration, now func() time.Time, log *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		n, err := st.PurgeLedger(ctx, now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "ledger retention purge", "err", err)
		case n > 0:
			log.InfoContext(ctx, "ledger retention purge", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
