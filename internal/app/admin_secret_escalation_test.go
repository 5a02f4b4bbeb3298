package app_test

import (
	"net/http"
	"testing"
)

// TestAdminAPIRotateSecretOfAdminClient: a client holding admin API scopes
// authenticates as an administrator, so a new secret for it is an
// owner's business. An rp-manager rotating an owner bot's secret would
// learn it and act as owner.
func TestAdminAPIRotateSecretOfAdminClient(t *testing.T) {
	e := newAdminEnv(t, false, nil)
	rpAPI, _ := e.newAPIClient(t, "rp-bot", []string{"admin:rp-manager"}, nil)
	owner, _ := e.newAPIClient(t, "owner-bot", []string{"admin:owner"}, nil)
	e.addClient(t, oidcSpec("portal", cbURL))

	r := rpAPI.do("POST", "/clients/owner-bot/secret", map[string]any{"overlap_seconds": 0})
	if r.status != http.StatusForbidden {
		t.Fatalf("rp-manager rotating an owner bot's secret: got %d %s, want 403", r.status, r.body)
	}
	r.problem(t)
	// The owner bot still works with its secret.
	if r := owner.do("GET", "/keys", nil); r.status != http.StatusOK {
		t.Errorf("owner bot after the refused rotation: got %d, want 200", r.status)
	}
	// A portal without admin scopes is still the rp-manager's to rotate.
	if r := rpAPI.do("POST", "/clients/portal/secret", map[string]any{"overlap_seconds": 0}); r.status != http.StatusOK {
		t.Errorf("rp-manager rotating a portal's secret: got %d %s, want 200", r.status, r.body)
	}
	// An owner may rotate it.
	if r := owner.do("POST", "/clients/rp-bot/secret", map[string]any{"overlap_seconds": 60}); r.status != http.StatusOK {
		t.Errorf("owner rotating an API client's secret: got %d %s, want 200", r.status, r.body)
	}
}
