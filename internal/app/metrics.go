package app

import (
	"context"
	"log/slog"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
)

// newMetrics builds the process metrics: HTTP traffic (counted by the
// server), audit events by action and outcome (so logins by method and
// result, throttling, changes), and gauges read at scrape time.
func newMetrics(in *Instance, log *slog.Logger) *server.Metrics {
	m := server.NewMetrics(log)
	in.Audit.Observe(func(_ context.Context, e audit.Event) {
		m.Inc("citizenid_audit_events_total", "action", e.Action, "outcome", e.Outcome)
	})
	m.Gauge("citizenid_sso_sessions", "Live SSO sessions.", func(ctx context.Context) (float64, error) {
		n, err := in.Sessions.CountLive(ctx)
		return float64(n), err
	})
	up := func(ping func(context.Context) error) func(context.Context) (float64, error) {
		return func(ctx context.Context) (float64, error) {
			if ping(ctx) != nil {
				return 0, nil
			}
			return 1, nil
		}
	}
	m.Gauge("citizenid_database_up", "1 when the database answers.", up(in.Store.Ping))
	m.Gauge("citizenid_redis_up", "1 when Redis answers.", up(in.Sessions.Ping))
	return m
}
