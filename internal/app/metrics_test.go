package app_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/clients"
)

// Operators see logins by method and outcome, live sessions and traffic.
func TestMetricsCountLoginsAndSessions(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	b := stoppingBrowser(t)
	form := b.get(authorize(e, nil))
	b.login(e.URL, form, testNumber, "wrong password!")
	portalRedirect(t, b.login(e.URL, form, testNumber, testPassword))

	rec := httptest.NewRecorder()
	e.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`citizenid_audit_events_total{action="login.password",outcome="failure"} 1`,
		`citizenid_audit_events_total{action="login.password",outcome="success"} 1`,
		"citizenid_sso_sessions 1",
		"citizenid_database_up 1",
		"citizenid_redis_up 1",
		`citizenid_http_requests_total{code="401"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}
