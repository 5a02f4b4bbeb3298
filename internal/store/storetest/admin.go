package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// testAdmin covers store.Admin (role grants, citizen search, audit counts)
// and the client fields the admin console edits.
func testAdmin(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Roles", func(t *testing.T) { testAdminRoles(t, newStore(t)) })
	t.Run("RevokeKeepsOneConcurrent", func(t *testing.T) { testRevokeKeepsOne(t, newStore(t)) })
	t.Run("ClientAdminFields", func(t *testing.T) { testClientAdminFields(t, newStore(t)) })
	t.Run("SearchCitizens", func(t *testing.T) { testSearchCitizens(t, newStore(t)) })
	t.Run("CountAudit", func(t *testing.T) { testCountAudit(t, newStore(t)) })
}

func normGrants(gs []store.AdminGrant) []store.AdminGrant {
	if len(gs) == 0 {
		return nil
	}
	out := make([]store.AdminGrant, len(gs))
	for i, g := range gs {
		g.GrantedAt = normTime(g.GrantedAt)
		out[i] = g
	}
	return out
}

func testAdminRoles(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newCitizen("001090000101"), newCitizen("001090000102")
	must(t, "create a", s.CreateCitizen(ctx, a, ""))
	must(t, "create b", s.CreateCitizen(ctx, b, ""))
	// Grant in an order other than the listing order.
	grants := []*store.AdminGrant{
		{CitizenID: b.ID, Role: "owner", GrantedBy: "cli", GrantedAt: base},
		{CitizenID: a.ID, Role: "rp-manager", GrantedBy: "admin:" + b.ID, GrantedAt: base.Add(time.Minute)},
		{CitizenID: a.ID, Role: "auditor", GrantedBy: "admin:" + b.ID},
	}
	for _, g := range grants {
		must(t, "grant "+g.Role, s.GrantRole(ctx, g))
	}
	if grants[2].GrantedAt.IsZero() {
		t.Errorf("GrantedAt left zero: got zero, want the store's clock")
	}

	t.Run("roles of", func(t *testing.T) {
		got, err := s.RolesOf(ctx, a.ID)
		must(t, "roles of a", err)
		check(t, "roles of a", got, []string{"auditor", "rp-manager"})
		got, err = s.RolesOf(ctx, "no-such-citizen")
		must(t, "roles of unknown", err)
		check(t, "roles of unknown", got, []string(nil))
	})

	t.Run("list", func(t *testing.T) {
		got, err := s.ListAdmins(ctx)
		must(t, "list admins", err)
		want := []store.AdminGrant{*grants[2], *grants[1], *grants[0]}
		if a.ID > b.ID {
			want = []store.AdminGrant{*grants[0], *grants[2], *grants[1]}
		}
		check(t, "grants", normGrants(got), normGrants(want))
		for _, g := range got {
			if g.GrantedAt.Location() != time.UTC {
				t.Errorf("GrantedAt location: got %v, want UTC", g.GrantedAt.Location())
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"grant twice", s.GrantRole(ctx, &store.AdminGrant{CitizenID: a.ID, Role: "auditor"}), store.ErrConflict},
			{"grant to unknown citizen", s.GrantRole(ctx, &store.AdminGrant{CitizenID: "no-such-citizen", Role: "owner"}), store.ErrNotFound},
			{"revoke not held", s.RevokeRole(ctx, b.ID, "auditor", false), store.ErrNotFound},
			{"revoke unknown citizen", s.RevokeRole(ctx, "no-such-citizen", "owner", false), store.ErrNotFound},
			{"revoke last owner keeping one", s.RevokeRole(ctx, b.ID, "owner", true), store.ErrConflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
		got, err := s.RolesOf(ctx, b.ID)
		must(t, "roles of b", err)
		check(t, "roles of b after refused revocations", got, []string{"owner"})
	})

	t.Run("revoke", func(t *testing.T) {
		must(t, "grant a owner", s.GrantRole(ctx, &store.AdminGrant{CitizenID: a.ID, Role: "owner"}))
		must(t, "revoke b owner keeping one", s.RevokeRole(ctx, b.ID, "owner", true))
		must(t, "revoke a auditor", s.RevokeRole(ctx, a.ID, "auditor", false))
		got, err := s.RolesOf(ctx, a.ID)
		must(t, "roles of a", err)
		check(t, "roles of a", got, []string{"owner", "rp-manager"})
		got, err = s.RolesOf(ctx, b.ID)
		must(t, "roles of b", err)
		check(t, "roles of b", got, []string(nil))
		// Without keepOne the last grant goes too.
		must(t, "revoke a owner", s.RevokeRole(ctx, a.ID, "owner", false))
		all, err := s.ListAdmins(ctx)
		must(t, "list admins", err)
		if len(all) != 1 || all[0].Role != "rp-manager" {
			t.Errorf("grants left: got %+v, want a's rp-manager only", all)
		}
	})
}

// testRevokeKeepsOne is two owners removing each other at once: exactly
// one revocation succeeds and one owner is left.
func testRevokeKeepsOne(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 5 {
		a, b := newCitizen(fmt.Sprintf("0010901%02d001", round)), newCitizen(fmt.Sprintf("0010901%02d002", round))
		must(t, "create a", s.CreateCitizen(ctx, a, ""))
		must(t, "create b", s.CreateCitizen(ctx, b, ""))
		role := fmt.Sprintf("owner-%d", round)
		must(t, "grant a", s.GrantRole(ctx, &store.AdminGrant{CitizenID: a.ID, Role: role}))
		must(t, "grant b", s.GrantRole(ctx, &store.AdminGrant{CitizenID: b.ID, Role: role}))
		errs := make([]error, 2)
		ids := []string{a.ID, b.ID}
		atOnce(len(ids), func(i int) { errs[i] = s.RevokeRole(ctx, ids[i], role, true) })
		ok, conflict := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conflict++
			default:
				t.Errorf("round %d: got error %v, want nil or ErrConflict", round, err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Errorf("round %d: got %d successes and %d conflicts, want 1 and 1", round, ok, conflict)
		}
		left := 0
		for _, id := range []string{a.ID, b.ID} {
			roles, err := s.RolesOf(ctx, id)
			must(t, "roles of", err)
			left += len(roles)
		}
		if left != 1 {
			t.Errorf("round %d: got %d grants left, want 1", round, left)
		}
	}
}

func normAdminClient(c store.Client) store.Client {
	c = normClient(c)
	c.PreviousSecretUntil = normTime(c.PreviousSecretUntil)
	c.AdminScopes = normStrings(c.AdminScopes)
	return c
}

func testClientAdminFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newClient("console-made")
	c.LogoURL = "https://portal.example.gov.vn/logo.png"
	c.TokenEndpointAuthMethod = "client_secret_post"
	c.PreviousSecretHash = "sha256:00ff"
	c.PreviousSecretUntil = base.Add(24 * time.Hour)
	c.AdminScopes = []string{"admin:auditor", "admin:rp-manager"}
	must(t, "create client", s.CreateClient(ctx, c))
	plain := newClient("cli-made")
	must(t, "create plain client", s.CreateClient(ctx, plain))

	for _, want := range []*store.Client{c, plain} {
		got, err := s.ClientByID(ctx, want.ID)
		must(t, "client by id", err)
		check(t, "client "+want.ID, normAdminClient(*got), normAdminClient(*want))
		if !got.PreviousSecretUntil.IsZero() && got.PreviousSecretUntil.Location() != time.UTC {
			t.Errorf("PreviousSecretUntil location: got %v, want UTC", got.PreviousSecretUntil.Location())
		}
	}
	if !c.PreviousSecretUntil.Equal(normTime(base.Add(24 * time.Hour))) {
		t.Errorf("caller's copy: got PreviousSecretUntil %v, want it normalised", c.PreviousSecretUntil)
	}

	// Rotation as the console does it: the current secret becomes the previous one.
	until := base.Add(48*time.Hour + time.Nanosecond)
	must(t, "rotate", s.UpdateClient(ctx, plain.ID, func(cl *store.Client) error {
		cl.PreviousSecretHash, cl.PreviousSecretUntil = cl.SecretHash, until
		cl.SecretHash = "sha256:new"
		cl.AdminScopes = []string{"admin:helpdesk"}
		cl.LogoURL = "https://x.example.gov.vn/l.svg"
		return nil
	}))
	got, err := s.ClientByID(ctx, plain.ID)
	must(t, "client by id", err)
	want := *plain
	want.PreviousSecretHash, want.PreviousSecretUntil, want.SecretHash = plain.SecretHash, until, "sha256:new"
	want.AdminScopes = []string{"admin:helpdesk"}
	want.LogoURL = "https://x.example.gov.vn/l.svg"
	want.UpdatedAt = got.UpdatedAt
	check(t, "rotated client", normAdminClient(*got), normAdminClient(want))

	// The overlap ends: the previous secret is cleared.
	must(t, "clear previous", s.UpdateClient(ctx, plain.ID, func(cl *store.Client) error {
		cl.PreviousSecretHash, cl.PreviousSecretUntil, cl.AdminScopes = "", time.Time{}, nil
		return nil
	}))
	got, err = s.ClientByID(ctx, plain.ID)
	must(t, "client by id", err)
	if got.PreviousSecretHash != "" || !got.PreviousSecretUntil.IsZero() || got.AdminScopes != nil {
		t.Errorf("cleared: got %q %v %v, want empty, zero, nil", got.PreviousSecretHash, got.PreviousSecretUntil, got.AdminScopes)
	}
	// An ID no backend can hold is an unknown client, not a store failure.
	for _, id := range []string{plain.ID + "\x00", plain.ID + "\xff"} {
		if _, err := s.ClientByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client by id %q: got %v, want ErrNotFound", id, err)
		}
	}
	list, err := s.ListClients(ctx)
	must(t, "list clients", err)
	if len(list) != 2 || list[1].ID != c.ID {
		t.Fatalf("list: got %d clients, want 2 with %s second", len(list), c.ID)
	}
	check(t, "listed client", normAdminClient(list[1]), normAdminClient(*c))
}

func testSearchCitizens(t *testing.T, s store.Store) {
	ctx := t.Context()
	people := []struct{ number, name string }{
		{"001090000003", "Nguyễn Văn An"},
		{"001090000001", "Trần Thị Bình"},
		{"002090000002", "Nguyễn Thị Cúc"},
		{"001190000004", "Lê Văn Dũng"},
	}
	for _, p := range people {
		c := newCitizen(p.number)
		c.Name = p.name
		must(t, "create "+p.number, s.CreateCitizen(ctx, c, ""))
	}
	numbers := func(cs []store.Citizen) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return out
	}
	tests := []struct {
		name, query, after string
		limit              int
		want               []string
	}{
		{"everyone", "", "", 0, []string{"001090000001", "001090000003", "001190000004", "002090000002"}},
		{"name substring", "Nguyễn", "", 0, []string{"001090000003", "002090000002"}},
		{"name middle", "Thị", "", 0, []string{"001090000001", "002090000002"}},
		{"case-sensitive", "nguyễn", "", 0, nil},
		{"number prefix", "00109", "", 0, []string{"001090000001", "001090000003"}},
		{"number not a substring", "90000003", "", 0, nil},
		{"whole number", "001190000004", "", 0, []string{"001190000004"}},
		{"limit", "", "", 2, []string{"001090000001", "001090000003"}},
		{"after", "", "001090000003", 0, []string{"001190000004", "002090000002"}},
		{"after with query", "Nguyễn", "001090000003", 1, []string{"002090000002"}},
		{"no match", "Phạm", "", 0, nil},
		{"like wildcards are literal", "%", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchCitizens(ctx, tt.query, tt.after, tt.limit)
			must(t, "search", err)
			check(t, "numbers", numbers(got), tt.want)
		})
	}
	got, err := s.SearchCitizens(ctx, "Bình", "", 0)
	must(t, "search", err)
	if len(got) == 1 {
		want := *newCitizen("001090000001")
		want.ID, want.Name, want.CreatedAt, want.UpdatedAt = got[0].ID, "Trần Thị Bình", got[0].CreatedAt, got[0].UpdatedAt
		check(t, "found citizen", normCitizen(got[0]), normCitizen(want))
	}
}

func ac(action, outcome string, n int64) store.AuditCount {
	return store.AuditCount{Action: action, Outcome: outcome, Count: n}
}

func testCountAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	events := []struct {
		at              time.Duration
		action, outcome string
	}{
		{-time.Hour, "login.password", "success"}, // before the window
		{0, "login.password", "success"},
		{time.Minute, "login.password", "success"},
		{2 * time.Minute, "login.password", "failure"},
		{3 * time.Minute, "login.totp", "success"},
		{4 * time.Minute, "login.password", "throttled"},
		{5 * time.Minute, "client.create", "success"},
		{10 * time.Minute, "login.totp", "failure"}, // at until: excluded
	}
	for _, e := range events {
		must(t, "append", s.AppendAudit(ctx, &store.AuditEvent{Time: base.Add(e.at), Actor: "system", Action: e.action, Outcome: e.outcome}))
	}
	until := base.Add(10 * time.Minute)
	tests := []struct {
		name         string
		since, until time.Time
		prefix       string
		want         []store.AuditCount
	}{
		{"logins", base, until, "login.", []store.AuditCount{
			ac("login.password", "failure", 1), ac("login.password", "success", 2), ac("login.password", "throttled", 1),
			ac("login.totp", "success", 1),
		}},
		{"everything", base, until, "", []store.AuditCount{
			ac("client.create", "success", 1), ac("login.password", "failure", 1), ac("login.password", "success", 2),
			ac("login.password", "throttled", 1), ac("login.totp", "success", 1),
		}},
		{"no upper bound", base.Add(3 * time.Minute), time.Time{}, "login.totp", []store.AuditCount{
			ac("login.totp", "failure", 1), ac("login.totp", "success", 1),
		}},
		{"prefix with no events", base, until, "saml.", nil},
		{"like wildcards are literal", base, until, "login%", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CountAudit(ctx, tt.since, tt.until, tt.prefix)
			must(t, "count", err)
			if len(got) == 0 {
				got = nil
			}
			check(t, "counts", got, tt.want)
		})
	}
}
