package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics(slog.New(slog.DiscardHandler))
	m.Inc("citizenid_audit_events_total", "action", "login.password", "outcome", "failure")
	m.Inc("citizenid_audit_events_total", "action", "login.password", "outcome", "failure")
	m.Inc("citizenid_audit_events_total", "action", `we"ird`, "outcome", "success")
	m.ObserveHTTP(200, 3*time.Millisecond)
	m.ObserveHTTP(404, 2*time.Second)
	m.Gauge("citizenid_sso_sessions", "Live SSO sessions.", func(context.Context) (float64, error) { return 7, nil })
	m.Gauge("citizenid_broken", "Fails.", func(context.Context) (float64, error) { return 0, errors.New("down") })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`citizenid_audit_events_total{action="login.password",outcome="failure"} 2`,
		`citizenid_audit_events_total{action="we\"ird",outcome="success"} 1`,
		`citizenid_http_requests_total{code="404"} 1`,
		`citizenid_http_request_duration_seconds_bucket{le="0.005"} 1`,
		`citizenid_http_request_duration_seconds_bucket{le="+Inf"} 2`,
		`citizenid_http_request_duration_seconds_count 2`,
		"# TYPE citizenid_sso_sessions gauge\ncitizenid_sso_sessions 7",
		"citizenid_uptime_seconds",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "citizenid_broken") {
		t.Error("a failing gauge was written")
	}
	var nilMetrics *Metrics
	nilMetrics.Inc("x")
	nilMetrics.ObserveHTTP(200, time.Second) // a server without metrics must not panic
}
