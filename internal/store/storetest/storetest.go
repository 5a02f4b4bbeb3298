package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Run runs the conformance suite against the implementation newStore
// builds. Every call of newStore must return a new, empty, migrated store
// and close it when t ends (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"Ping", testPing},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"Citizens", testCitizens},
		{"ListCitizens", testListCitizens},
		{"Passwords", testPasswords},
		{"Clients", testClients},
		{"SigningKeys", testSigningKeys},
		{"SigningKeysConcurrent", testSigningKeysConcurrent},
		{"RefreshTokens", testRefreshTokens},
		{"RefreshTokensConcurrentRotation", testConcurrentRotation},
		{"TOTP", testTOTP},
		{"TOTPConcurrentUpdate", testTOTPConcurrentUpdate},
		{"RecoveryCodes", testRecoveryCodes},
		{"RecoveryCodesConcurrentUse", testRecoveryCodesConcurrentUse},
		{"WebAuthn", testWebAuthn}, {"WebAuthnConcurrent", testWebAuthnConcurrent}, {"WebAuthnUse", testWebAuthnUse},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditFilter", testAuditFilter},
		{"AuditPaging", testAuditPaging},
		{"ServiceProviders", testServiceProviders},
		{"Admin", testAdmin},
		{"CertificateBindings", testCertificateBindings}, {"CertificateBindingsConcurrent", testCertificateBindingsConcurrent},
		{"Ledger", testLedger}, {"LedgerConcurrent", testLedgerConcurrent},
		{"Outbox", testOutbox}, {"Marks", testMarks}, {"OutboxConcurrent", testOutboxConcurrent},
		{"Consents", testConsents}, {"ConsentsConcurrentWithdraw", testConsentsConcurrentWithdraw}, {"RevokeRefreshTokensForClient", testRevokeRefreshTokensForClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore) })
	}
}

// base is a fixed, non-UTC time with nanoseconds that the stores must round.
var base = time.Date(2025, 9, 2, 9, 30, 15, 123456789, time.FixedZone("ICT", 7*60*60))

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

// The norm functions put values in the form the contract promises to
// preserve: times at store.TimePrecision in UTC; nil and empty alike.

func normTime(t time.Time) time.Time { return t.Round(store.TimePrecision).UTC() }

func normStrings(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func normBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func normCitizen(c store.Citizen) store.Citizen {
	c.CreatedAt = normTime(c.CreatedAt)
	c.UpdatedAt = normTime(c.UpdatedAt)
	return c
}

func normClient(c store.Client) store.Client {
	c.RedirectURIs = normStrings(c.RedirectURIs)
	c.PostLogoutRedirectURIs = normStrings(c.PostLogoutRedirectURIs)
	c.Scopes = normStrings(c.Scopes)
	c.CreatedAt = normTime(c.CreatedAt)
	c.UpdatedAt = normTime(c.UpdatedAt)
	return c
}

func normKeys(keys []store.SigningKey) []store.SigningKey {
	out := make([]store.SigningKey, len(keys))
	for i, k := range keys {
		k.PublicKey = normBytes(k.PublicKey)
		k.PrivateKey = normBytes(k.PrivateKey)
		k.CreatedAt = normTime(k.CreatedAt)
		k.ActivatedAt = normTime(k.ActivatedAt)
		k.RetiredAt = normTime(k.RetiredAt)
		k.VerifyUntil = normTime(k.VerifyUntil)
		out[i] = k
	}
	return out
}

func normToken(t store.RefreshToken) store.RefreshToken {
	t.Scopes = normStrings(t.Scopes)
	t.Audience = normStrings(t.Audience)
	t.AMR = normStrings(t.AMR)
	t.AuthTime = normTime(t.AuthTime)
	t.CreatedAt = normTime(t.CreatedAt)
	t.ExpiresAt = normTime(t.ExpiresAt)
	t.UsedAt = normTime(t.UsedAt)
	t.RevokedAt = normTime(t.RevokedAt)
	return t
}

func normEvents(events []store.AuditEvent) []store.AuditEvent {
	out := make([]store.AuditEvent, len(events))
	for i, e := range events {
		e.Time = normTime(e.Time)
		if len(e.Details) == 0 {
			e.Details = nil
		}
		out[i] = e
	}
	return out
}

func testPing(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	must(t, "ping", s.Ping(t.Context()))
}

func testTimeRoundTrip(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	now := time.Now() // carries a monotonic reading
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"nanoseconds in another zone", base, time.Date(2025, 9, 2, 2, 30, 15, 123457000, time.UTC)},
		{"rounds half up", time.Date(2025, 1, 1, 0, 0, 0, 500, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{"rounds into the next year", time.Date(2025, 12, 31, 23, 59, 59, 999999600, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"exact microseconds", time.Date(2030, 6, 1, 12, 0, 0, 1000, time.UTC), time.Date(2030, 6, 1, 12, 0, 0, 1000, time.UTC)},
		{"before 1970", time.Date(1950, 2, 3, 4, 5, 6, 7000, time.UTC), time.Date(1950, 2, 3, 4, 5, 6, 7000, time.UTC)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"with monotonic reading", now, now.Round(time.Microsecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &store.Citizen{ID: newID("c"), Number: newID("n"), IdentityLevel: 1, CreatedAt: tt.in, UpdatedAt: tt.in}
			must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
			if !c.CreatedAt.Equal(tt.want) {
				t.Errorf("normalised argument: got %v, want %v", c.CreatedAt, tt.want)
			}
			got, err := s.CitizenByID(ctx, c.ID)
			must(t, "citizen by id", err)
			for _, v := range []struct {
				field string
				got   time.Time
			}{{"CreatedAt", got.CreatedAt}, {"UpdatedAt", got.UpdatedAt}} {
				if !v.got.Equal(tt.want) {
					t.Errorf("%s: got %v, want %v", v.field, v.got, tt.want)
				}
				if v.got.Location() != time.UTC {
					t.Errorf("%s location: got %v, want UTC", v.field, v.got.Location())
				}
			}

			// Optional times: set ones round-trip, zero ones stay zero.
			tok := &store.RefreshToken{ID: newID("rt"), TokenHash: newID("h"), FamilyID: newID("f"),
				CitizenID: c.ID, ClientID: "portal", AuthTime: tt.in, CreatedAt: tt.in, ExpiresAt: tt.in,
				DPoPJKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", Claims: []string{"name", "birthdate"}}
			must(t, "create refresh token", s.CreateRefreshToken(ctx, tok))
			gotTok, err := s.RefreshTokenByHash(ctx, tok.TokenHash)
			must(t, "refresh token by hash", err)
			if !gotTok.AuthTime.Equal(tt.want) || !gotTok.ExpiresAt.Equal(tt.want) {
				t.Errorf("token times: got auth %v expires %v, want %v", gotTok.AuthTime, gotTok.ExpiresAt, tt.want)
			}
			if gotTok.DPoPJKT != tok.DPoPJKT || !slices.Equal(gotTok.Claims, tok.Claims) {
				t.Errorf("token binding: got %q %q, want %q %q", gotTok.DPoPJKT, gotTok.Claims, tok.DPoPJKT, tok.Claims)
			}
			if !gotTok.UsedAt.IsZero() || !gotTok.RevokedAt.IsZero() {
				t.Errorf("unset token times: got used %v revoked %v, want zero", gotTok.UsedAt, gotTok.RevokedAt)
			}

			// The audit hash covers the time: it must verify after the round trip.
			e := &store.AuditEvent{Time: tt.in, Actor: "system", Action: "time.test"}
			must(t, "append audit", s.AppendAudit(ctx, e))
			events, err := s.ListAudit(ctx, store.AuditFilter{AfterSeq: e.Seq - 1, Limit: 1})
			must(t, "list audit", err)
			if len(events) != 1 {
				t.Fatalf("audit events: got %d, want 1", len(events))
			}
			if !events[0].Time.Equal(tt.want) {
				t.Errorf("audit time: got %v, want %v", events[0].Time, tt.want)
			}
			if h := store.AuditHash(events[0].PrevHash, &events[0]); h != events[0].Hash {
				t.Errorf("audit hash after round trip: got %s, want %s", h, events[0].Hash)
			}
		})
	}
}

func newCitizen(number string) *store.Citizen {
	return &store.Citizen{
		ID:            newID("cit"),
		Number:        number,
		Name:          "Nguyễn Văn An",
		Birthdate:     "1990-04-30",
		Email:         "an@example.vn",
		Phone:         "+84901234567",
		EmailVerified: true,
		IdentityLevel: 2,
		CreatedAt:     base,
		UpdatedAt:     base,
	}
}

func testCitizens(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))

	t.Run("get", func(t *testing.T) {
		byID, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		check(t, "citizen by id", normCitizen(*byID), normCitizen(*c))
		byNumber, err := s.CitizenByNumber(ctx, c.Number)
		must(t, "citizen by number", err)
		check(t, "citizen by number", normCitizen(*byNumber), normCitizen(*c))
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"duplicate number", s.CreateCitizen(ctx, &store.Citizen{ID: newID("cit"), Number: c.Number}, ""), store.ErrConflict},
			{"duplicate id", s.CreateCitizen(ctx, &store.Citizen{ID: c.ID, Number: "001090000099"}, ""), store.ErrConflict},
			{"unknown id", func() error { _, err := s.CitizenByID(ctx, "no-such-id"); return err }(), store.ErrNotFound},
			{"unknown number", func() error { _, err := s.CitizenByNumber(ctx, "999999999999"); return err }(), store.ErrNotFound},
			{"update unknown", s.UpdateCitizen(ctx, "no-such-id", func(*store.Citizen) error { return nil }), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
		if _, err := s.CitizenByNumber(ctx, "001090000099"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("citizen of a failed create: got error %v, want %v", err, store.ErrNotFound)
		}
	})

	t.Run("update", func(t *testing.T) {
		err := s.UpdateCitizen(ctx, c.ID, func(got *store.Citizen) error {
			check(t, "citizen passed to fn", normCitizen(*got), normCitizen(*c))
			got.Name = "Nguyễn Thị Bình"
			got.IdentityLevel = 1
			got.Disabled = true
			got.SkipSecondFactor = true
			got.EmailVerified, got.PhoneVerified, got.SelfRegistered = false, true, true
			return nil
		})
		must(t, "update citizen", err)
		got, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		want := *c
		want.Name, want.IdentityLevel, want.Disabled, want.SkipSecondFactor = "Nguyễn Thị Bình", 1, true, true
		want.EmailVerified, want.PhoneVerified, want.SelfRegistered = false, true, true
		want.UpdatedAt = got.UpdatedAt
		check(t, "updated citizen", normCitizen(*got), normCitizen(want))
		if got.UpdatedAt.Equal(normTime(c.UpdatedAt)) {
			t.Errorf("UpdatedAt: got %v unchanged, want the store's clock", got.UpdatedAt)
		}
		*c = *got
	})

	t.Run("update keeps UpdatedAt set by fn", func(t *testing.T) {
		at := base.Add(time.Hour)
		must(t, "update citizen", s.UpdateCitizen(ctx, c.ID, func(got *store.Citizen) error {
			got.UpdatedAt = at
			return nil
		}))
		got, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		if !got.UpdatedAt.Equal(normTime(at)) {
			t.Errorf("UpdatedAt: got %v, want %v", got.UpdatedAt, normTime(at))
		}
		*c = *got
	})

	t.Run("update fn error writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.UpdateCitizen(ctx, c.ID, func(got *store.Citizen) error {
			got.Name = "changed"
			return boom
		})
		wantErr(t, "update with failing fn", err, boom)
		got, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		check(t, "citizen after failed update", normCitizen(*got), normCitizen(*c))
	})

	t.Run("update to a taken number", func(t *testing.T) {
		other := newCitizen("001090000002")
		must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))
		err := s.UpdateCitizen(ctx, c.ID, func(got *store.Citizen) error {
			got.Number = other.Number
			return nil
		})
		wantErr(t, "update to taken number", err, store.ErrConflict)
		got, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		check(t, "citizen after conflicting update", normCitizen(*got), normCitizen(*c))
	})

	t.Run("create with password is one write", func(t *testing.T) {
		withPw := newCitizen("001090000003")
		must(t, "create citizen with password", s.CreateCitizen(ctx, withPw, "$argon2id$hash-1"))
		got, err := s.PasswordHash(ctx, withPw.ID)
		must(t, "password hash", err)
		check(t, "password hash", got, "$argon2id$hash-1")
		// A conflicting create writes neither the citizen nor the password.
		dup := newCitizen(withPw.Number)
		wantErr(t, "duplicate create with password", s.CreateCitizen(ctx, dup, "$argon2id$hash-2"), store.ErrConflict)
		_, err = s.PasswordHash(ctx, dup.ID)
		wantErr(t, "password of the refused citizen", err, store.ErrNotFound)
	})

	t.Run("second-factor setting", func(t *testing.T) {
		// The default asks for the second factor; both values round-trip
		// through create, read and update.
		if c := newCitizen("x"); c.SkipSecondFactor {
			t.Fatalf("new citizen SkipSecondFactor: got true, want the zero value false")
		}
		skip := newCitizen("001090000004")
		skip.SkipSecondFactor = true
		must(t, "create citizen skipping the second factor", s.CreateCitizen(ctx, skip, ""))
		got, err := s.CitizenByNumber(ctx, skip.Number)
		must(t, "citizen by number", err)
		check(t, "citizen skipping the second factor", normCitizen(*got), normCitizen(*skip))
		for _, want := range []bool{false, true, false} {
			must(t, "update citizen", s.UpdateCitizen(ctx, skip.ID, func(got *store.Citizen) error {
				got.SkipSecondFactor = want
				return nil
			}))
			got, err := s.CitizenByID(ctx, skip.ID)
			must(t, "citizen by id", err)
			if got.SkipSecondFactor != want {
				t.Errorf("SkipSecondFactor after update: got %v, want %v", got.SkipSecondFactor, want)
			}
		}
		list, err := s.ListCitizens(ctx, "", 0)
		must(t, "list citizens", err)
		for _, l := range list {
			if l.ID == skip.ID && l.SkipSecondFactor {
				t.Errorf("listed SkipSecondFactor: got true, want false")
			}
		}
	})

	t.Run("update cannot change id", func(t *testing.T) {
		err := s.UpdateCitizen(ctx, c.ID, func(got *store.Citizen) error {
			got.ID = newID("cit")
			return nil
		})
		if err == nil {
			t.Errorf("update changing id: got nil error, want an error")
		}
	})
}

func testListCitizens(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	numbers := []string{"079200000005", "001200000001", "048200000003", "001200000002", "096200000004"}
	for _, n := range numbers {
		must(t, "create citizen", s.CreateCitizen(ctx, newCitizen(n), ""))
	}
	sorted := slices.Sorted(slices.Values(numbers))

	numbersOf := func(cs []store.Citizen) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return out
	}
	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{"first page", "", 2, sorted[0:2]},
		{"second page", sorted[1], 2, sorted[2:4]},
		{"last page", sorted[3], 2, sorted[4:]},
		{"past the end", sorted[4], 2, []string{}},
		{"after a number not stored", "001200000001x", 10, sorted[1:]},
		{"default limit", "", 0, sorted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListCitizens(ctx, tt.after, tt.limit)
			must(t, "list citizens", err)
			check(t, "numbers", numbersOf(got), tt.want)
		})
	}
}

func testPasswords(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	const h1, h2, h3 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDE$aGFzaDE", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdDM$aGFzaDM"

	hashIs := func(t *testing.T, want string) {
		t.Helper()
		got, err := s.PasswordHash(ctx, c.ID)
		must(t, "password hash", err)
		if got != want {
			t.Errorf("password hash: got %q, want %q", got, want)
		}
	}

	_, err := s.PasswordHash(ctx, c.ID)
	wantErr(t, "hash before any is set", err, store.ErrNotFound)
	wantErr(t, "replace before any is set", s.ReplacePasswordHash(ctx, c.ID, h1, h2), store.ErrConflict)
	wantErr(t, "set for unknown citizen", s.SetPassword(ctx, "no-such-citizen", h1), store.ErrNotFound)

	must(t, "set password", s.SetPassword(ctx, c.ID, h1))
	hashIs(t, h1)
	must(t, "set password again", s.SetPassword(ctx, c.ID, h2))
	hashIs(t, h2)

	wantErr(t, "replace with stale old hash", s.ReplacePasswordHash(ctx, c.ID, h1, h3), store.ErrConflict)
	hashIs(t, h2)
	must(t, "replace with current hash", s.ReplacePasswordHash(ctx, c.ID, h2, h3))
	hashIs(t, h3)

	t.Run("concurrent replace", func(t *testing.T) {
		// Two logins rehash the same old hash at once: exactly one wins.
		const n = 5
		errs := make([]error, n)
		atOnce(n, func(i int) { errs[i] = s.ReplacePasswordHash(ctx, c.ID, h3, fmt.Sprintf("new-%d", i)) })
		winners := 0
		var winner string
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = fmt.Sprintf("new-%d", i)
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("replace %d: got error %v, want nil or %v", i, err, store.ErrConflict)
			}
		}
		if winners != 1 {
			t.Fatalf("successful replaces: got %d, want 1", winners)
		}
		hashIs(t, winner)
	})
}

func newClient(id string) *store.Client {
	return &store.Client{
		ID:                       id,
		Name:                     "Cổng dịch vụ công",
		SecretHash:               "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$c2VjcmV0",
		RedirectURIs:             []string{"https://portal.example.gov.vn/callback", "https://portal.example.gov.vn/cb2"},
		PostLogoutRedirectURIs:   []string{"https://portal.example.gov.vn/"},
		Scopes:                   []string{"citizen_number"},
		SubjectType:              "pairwise",
		SectorIdentifier:         "https://portal.example.gov.vn/sector.json",
		MinLevel:                 2,
		MaxAuthAge:               90*time.Minute + time.Nanosecond,
		AccessTokenLifetime:      5 * time.Minute,
		RefreshTokenLifetime:     30 * 24 * time.Hour,
		IDTokenLifetime:          time.Hour,
		LegalBasis:               "Luật Quản lý thuế 2019, Điều 17",
		JWKS:                     `{"keys":[]}`,
		JWKSURI:                  "https://portal.example.gov.vn/jwks.json",
		RequirePAR:               true,
		RequireDPoP:              true,
		Profile:                  store.ProfileFAPI2,
		AccessTokenAudience:      "https://api.portal.example.gov.vn",
		AccessTokenFormat:        store.AccessTokenOpaque,
		IDTokenSignedResponseAlg: "ES256",
		CreatedAt:                base,
		UpdatedAt:                base,
	}
}

func testClients(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	full := newClient("portal-b")
	public := &store.Client{ID: "portal-a", Name: "SPA", Public: true, RedirectURIs: []string{}, SubjectType: "public", MinLevel: 1}
	third := newClient("portal-c")
	third.Disabled = true
	third.SubjectScheme = 1 // registered before the current scheme: kept as it is
	for _, c := range []*store.Client{full, public, third} {
		must(t, "create client "+c.ID, s.CreateClient(ctx, c))
	}

	t.Run("get", func(t *testing.T) {
		for _, c := range []*store.Client{full, public, third} {
			got, err := s.ClientByID(ctx, c.ID)
			must(t, "client by id", err)
			check(t, "client "+c.ID, normClient(*got), normClient(*c))
		}
		if public.CreatedAt.IsZero() || !public.UpdatedAt.Equal(public.CreatedAt) {
			t.Errorf("stamped times: got created %v updated %v, want the store's clock twice", public.CreatedAt, public.UpdatedAt)
		}
	})

	t.Run("list ordered by id", func(t *testing.T) {
		got, err := s.ListClients(ctx)
		must(t, "list clients", err)
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		check(t, "client ids", ids, []string{"portal-a", "portal-b", "portal-c"})
		if len(got) == 3 {
			check(t, "listed client", normClient(got[1]), normClient(*full))
		}
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"duplicate id", s.CreateClient(ctx, newClient(full.ID)), store.ErrConflict},
			{"unknown id", func() error { _, err := s.ClientByID(ctx, "no-such-client"); return err }(), store.ErrNotFound},
			{"update unknown", s.UpdateClient(ctx, "no-such-client", func(*store.Client) error { return nil }), store.ErrNotFound},
			{"delete unknown", s.DeleteClient(ctx, "no-such-client"), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
	})

	version := func() string {
		v, err := s.ClientsVersion(ctx)
		must(t, "clients version", err)
		return v
	}
	t.Run("update", func(t *testing.T) {
		before := version()
		must(t, "update client", s.UpdateClient(ctx, full.ID, func(c *store.Client) error {
			check(t, "client passed to fn", normClient(*c), normClient(*full))
			c.RedirectURIs = append(c.RedirectURIs, "https://portal.example.gov.vn/cb3")
			c.Scopes = nil
			c.MinLevel = 3
			c.MaxAuthAge = 15 * time.Minute
			c.Disabled = true
			return nil
		}))
		got, err := s.ClientByID(ctx, full.ID)
		must(t, "client by id", err)
		want := *full
		want.RedirectURIs = append(slices.Clone(full.RedirectURIs), "https://portal.example.gov.vn/cb3")
		want.Scopes = nil
		want.MinLevel = 3
		want.MaxAuthAge = 15 * time.Minute
		want.Disabled = true
		want.UpdatedAt = got.UpdatedAt
		check(t, "updated client", normClient(*got), normClient(want))
		if got.UpdatedAt.Equal(normTime(full.UpdatedAt)) {
			t.Errorf("UpdatedAt: got %v unchanged, want the store's clock", got.UpdatedAt)
		}
		if after := version(); after == before {
			t.Errorf("clients version after an update: %q unchanged", after)
		}
	})

	t.Run("update fn error writes nothing", func(t *testing.T) {
		before, err := s.ClientByID(ctx, third.ID)
		must(t, "client by id", err)
		boom := errors.New("boom")
		wantErr(t, "update with failing fn", s.UpdateClient(ctx, third.ID, func(c *store.Client) error {
			c.Name = "changed"
			return boom
		}), boom)
		after, err := s.ClientByID(ctx, third.ID)
		must(t, "client by id", err)
		check(t, "client after failed update", normClient(*after), normClient(*before))
	})

	t.Run("delete", func(t *testing.T) {
		before := version()
		must(t, "delete client", s.DeleteClient(ctx, public.ID))
		if after := version(); after == before {
			t.Errorf("clients version after a delete: %q unchanged", after)
		}
		_, err := s.ClientByID(ctx, public.ID)
		wantErr(t, "deleted client", err, store.ErrNotFound)
		wantErr(t, "delete again", s.DeleteClient(ctx, public.ID), store.ErrNotFound)
		got, err := s.ListClients(ctx)
		must(t, "list clients", err)
		if len(got) != 2 {
			t.Errorf("clients after delete: got %d, want 2", len(got))
		}
	})
}
