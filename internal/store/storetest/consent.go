package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func newConsent(citizenID, portal string, at time.Time, attrs ...string) *store.Consent {
	return &store.Consent{ID: newID("cs"), CitizenID: citizenID, Portal: portal, PortalName: "Cổng dịch vụ thuế",
		Attributes: attrs, Basis: store.BasisConsent, TextVersion: 1, GrantedAt: at}
}

func normConsent(c store.Consent) store.Consent {
	c.GrantedAt = normTime(c.GrantedAt)
	c.WithdrawnAt = normTime(c.WithdrawnAt)
	c.Attributes = normStrings(c.Attributes)
	return c
}

func testConsents(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000021")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	other := newCitizen("001090000022")
	must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))

	t.Run("none", func(t *testing.T) {
		_, err := s.ActiveConsent(ctx, c.ID, "oidc:tax")
		wantErr(t, "active consent of nobody", err, store.ErrNotFound)
		got, err := s.ConsentsOf(ctx, c.ID)
		must(t, "consents of", err)
		if len(got) != 0 {
			t.Errorf("consents of a citizen without any: got %v, want none", got)
		}
		wantErr(t, "withdraw nothing", s.WithdrawConsent(ctx, c.ID, "oidc:tax", base), store.ErrNotFound)
	})

	first := newConsent(c.ID, "oidc:tax", base, "name", "birthdate")
	second := newConsent(c.ID, "oidc:tax", base.Add(time.Hour), "name", "birthdate", "email")
	legal := newConsent(c.ID, "saml:https://legacy.example.gov.vn", base.Add(2*time.Hour), "name")
	legal.Basis, legal.LegalBasis, legal.TextVersion = store.BasisLegal, "Luật Cư trú 2020", 2
	others := newConsent(other.ID, "oidc:tax", base.Add(3*time.Hour), "phone")
	for _, cs := range []*store.Consent{first, second, legal, others} {
		must(t, "grant", s.GrantConsent(ctx, cs))
	}

	t.Run("active is the latest", func(t *testing.T) {
		tests := []struct {
			citizen, portal string
			want            *store.Consent
		}{
			{c.ID, "oidc:tax", second},
			{c.ID, "saml:https://legacy.example.gov.vn", legal},
			{other.ID, "oidc:tax", others},
		}
		for _, tt := range tests {
			got, err := s.ActiveConsent(ctx, tt.citizen, tt.portal)
			must(t, "active consent", err)
			check(t, "active consent "+tt.portal, normConsent(*got), normConsent(*tt.want))
		}
	})

	t.Run("conflicts and unknown citizens", func(t *testing.T) {
		dup := *first
		wantErr(t, "same id", s.GrantConsent(ctx, &dup), store.ErrConflict)
		wantErr(t, "unknown citizen", s.GrantConsent(ctx, newConsent("nobody", "oidc:tax", base)), store.ErrNotFound)
	})

	t.Run("withdraw keeps the history", func(t *testing.T) {
		at := base.Add(4 * time.Hour)
		must(t, "withdraw", s.WithdrawConsent(ctx, c.ID, "oidc:tax", at))
		_, err := s.ActiveConsent(ctx, c.ID, "oidc:tax")
		wantErr(t, "active after withdrawal", err, store.ErrNotFound)
		wantErr(t, "withdraw twice", s.WithdrawConsent(ctx, c.ID, "oidc:tax", at), store.ErrNotFound)
		if _, err := s.ActiveConsent(ctx, other.ID, "oidc:tax"); err != nil {
			t.Errorf("another citizen's consent: got %v, want it in force", err)
		}
		got, err := s.ConsentsOf(ctx, c.ID)
		must(t, "consents of", err)
		w1, w2 := normConsent(*first), normConsent(*second)
		w1.WithdrawnAt, w2.WithdrawnAt = normTime(at), normTime(at)
		var norm []store.Consent
		for _, g := range got {
			norm = append(norm, normConsent(g))
		}
		check(t, "history", norm, []store.Consent{w1, w2, normConsent(*legal)})

		again := newConsent(c.ID, "oidc:tax", base.Add(5*time.Hour), "name")
		must(t, "grant again", s.GrantConsent(ctx, again))
		got1, err := s.ActiveConsent(ctx, c.ID, "oidc:tax")
		must(t, "active after new grant", err)
		check(t, "active after new grant", got1.ID, again.ID)
	})

	t.Run("store clock fills GrantedAt", func(t *testing.T) {
		cs := newConsent(c.ID, "oidc:clock", time.Time{}, "name")
		must(t, "grant", s.GrantConsent(ctx, cs))
		if cs.GrantedAt.IsZero() {
			t.Error("GrantedAt: got zero, want the store's clock")
		}
	})
}

func testRevokeRefreshTokensForClient(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	mine := newToken("fam-1", "sid-1")
	otherClient := newToken("fam-2", "sid-1")
	otherClient.ClientID = "another-portal"
	otherCitizen := newToken("fam-3", "sid-2")
	otherCitizen.CitizenID = "citizen-2"
	for _, tok := range []*store.RefreshToken{mine, otherClient, otherCitizen} {
		must(t, "create token", s.CreateRefreshToken(ctx, tok))
	}
	at := base.Add(time.Hour)
	must(t, "revoke for client", s.RevokeRefreshTokensForClient(ctx, "citizen-1", "portal", at))
	tests := []struct {
		name    string
		tok     *store.RefreshToken
		revoked bool
	}{
		{"the citizen's token for the client", mine, true},
		{"the citizen's token for another client", otherClient, false},
		{"another citizen's token for the client", otherCitizen, false},
	}
	for _, tt := range tests {
		got, err := s.RefreshTokenByHash(ctx, tt.tok.TokenHash)
		must(t, tt.name, err)
		if revoked := !got.RevokedAt.IsZero(); revoked != tt.revoked {
			t.Errorf("%s: got revoked %v, want %v", tt.name, revoked, tt.revoked)
		}
	}
}

// Of concurrent withdrawals of one consent, exactly one succeeds.
func testConsentsConcurrentWithdraw(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000023")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	must(t, "grant", s.GrantConsent(ctx, newConsent(c.ID, "oidc:tax", base, "name")))
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { errs <- s.WithdrawConsent(ctx, c.ID, "oidc:tax", base.Add(time.Hour)) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("concurrent withdraw: got %v, want nil or ErrNotFound", err)
		}
	}
	if ok != 1 {
		t.Errorf("concurrent withdrawals: got %d successes, want 1", ok)
	}
}
