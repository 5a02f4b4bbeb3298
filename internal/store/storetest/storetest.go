package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
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
		{"WebAuthn", testWebAuthn}, {"WebAuthnConcurrent", testWebAuthnConcurrent},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditFilter", testAuditFilter},
		{"AuditPaging", testAuditPaging},
		{"ServiceProviders", testServiceProviders},
		{"Admin", testAdmin},
		{"CertificateBindings", testCertificateBindings}, {"CertificateBindingsConcurrent", testCertificateBindingsConcurrent},
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
				CitizenID: c.ID, ClientID: "portal", AuthTime: tt.in, CreatedAt: tt.in, ExpiresAt: tt.in}
			must(t, "create refresh token", s.CreateRefreshToken(ctx, tok))
			gotTok, err := s.RefreshTokenByHash(ctx, tok.TokenHash)
			must(t, "refresh token by hash", err)
			if !gotTok.AuthTime.Equal(tt.want) || !gotTok.ExpiresAt.Equal(tt.want) {
				t.Errorf("token times: got auth %v expires %v, want %v", gotTok.AuthTime, gotTok.ExpiresAt, tt.want)
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
			return nil
		})
		must(t, "update citizen", err)
		got, err := s.CitizenByID(ctx, c.ID)
		must(t, "citizen by id", err)
		want := *c
		want.Name, want.IdentityLevel, want.Disabled, want.SkipSecondFactor = "Nguyễn Thị Bình", 1, true, true
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
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.ReplacePasswordHash(ctx, c.ID, h3, fmt.Sprintf("new-%d", i))
			})
		}
		close(start)
		wg.Wait()
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
		ID:                     id,
		Name:                   "Cổng dịch vụ công",
		SecretHash:             "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$c2VjcmV0",
		RedirectURIs:           []string{"https://portal.example.gov.vn/callback", "https://portal.example.gov.vn/cb2"},
		PostLogoutRedirectURIs: []string{"https://portal.example.gov.vn/"},
		Scopes:                 []string{"citizen_number"},
		SubjectType:            "pairwise",
		SectorIdentifier:       "https://portal.example.gov.vn/sector.json",
		MinLevel:               2,
		MaxAuthAge:             90*time.Minute + time.Nanosecond,
		AccessTokenLifetime:    5 * time.Minute,
		RefreshTokenLifetime:   30 * 24 * time.Hour,
		IDTokenLifetime:        time.Hour,
		CreatedAt:              base,
		UpdatedAt:              base,
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

	t.Run("update", func(t *testing.T) {
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
		must(t, "delete client", s.DeleteClient(ctx, public.ID))
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

func newKey(id string, created time.Time, state string) store.SigningKey {
	return store.SigningKey{
		ID:         id,
		Algorithm:  "RS256",
		State:      state,
		PublicKey:  []byte("public " + id),
		PrivateKey: []byte("sealed private " + id),
		CreatedAt:  created,
	}
}

func testSigningKeys(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()

	keysAre := func(t *testing.T, want []store.SigningKey) {
		t.Helper()
		got, err := s.ListSigningKeys(ctx)
		must(t, "list signing keys", err)
		check(t, "signing keys", normKeys(got), normKeys(want))
	}
	keysAre(t, nil)

	k1 := newKey("k1", base, store.KeyActive)
	k1.ActivatedAt = base
	k2 := newKey("k2", base.Add(time.Hour), store.KeyNext)
	must(t, "insert keys", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		if len(keys) != 0 {
			t.Errorf("keys passed to fn: got %d, want 0", len(keys))
		}
		// Returned out of order: the list is ordered oldest first.
		return []store.SigningKey{k2, k1}, nil
	}))
	keysAre(t, []store.SigningKey{k1, k2})

	// Rotate: k1 retires, k2 activates, k3 is generated.
	before := []store.SigningKey{k1, k2}
	k1.State, k1.RetiredAt, k1.VerifyUntil = store.KeyRetired, base.Add(2*time.Hour), base.Add(26*time.Hour)
	k2.State, k2.ActivatedAt = store.KeyActive, base.Add(2*time.Hour)
	k3 := newKey("k3", base.Add(2*time.Hour), store.KeyNext)
	must(t, "rotate keys", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		check(t, "keys passed to fn", normKeys(keys), normKeys(before))
		return []store.SigningKey{k1, k2, k3}, nil
	}))
	keysAre(t, []store.SigningKey{k1, k2, k3})

	must(t, "delete k1", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		return slices.DeleteFunc(keys, func(k store.SigningKey) bool { return k.ID == "k1" }), nil
	}))
	keysAre(t, []store.SigningKey{k2, k3})

	boom := errors.New("boom")
	wantErr(t, "update with failing fn", s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		return nil, boom
	}), boom)
	keysAre(t, []store.SigningKey{k2, k3})
}

func testSigningKeysConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
				// The new key is named after the set fn saw: two callers
				// that saw the same set (no serialisation) collide.
				k := len(keys)
				return append(keys, newKey(fmt.Sprintf("key-%d", k), base.Add(time.Duration(k)*time.Second), store.KeyNext)), nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: got error %v, want nil", i, err)
		}
	}
	got, err := s.ListSigningKeys(ctx)
	must(t, "list signing keys", err)
	var ids []string
	for _, k := range got {
		ids = append(ids, k.ID)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("key-%d", i))
	}
	check(t, "key ids (unserialised updates collide or drop one)", ids, want)
}

func newToken(family, session string) *store.RefreshToken {
	return &store.RefreshToken{
		ID:        newID("rt"),
		TokenHash: newID("hash"),
		FamilyID:  family,
		CitizenID: "citizen-1",
		ClientID:  "portal",
		Subject:   "pairwise-subject",
		SessionID: session,
		Scopes:    []string{"openid", "profile", "offline_access"},
		Audience:  []string{"portal"},
		AuthTime:  base,
		ACR:       "urn:citizenid:loa:2",
		AMR:       []string{"pwd", "otp", "mfa"},
		CreatedAt: base,
		ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func testRefreshTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	now := base.Add(time.Hour)

	tokenIs := func(t *testing.T, s store.Store, want *store.RefreshToken) {
		t.Helper()
		got, err := s.RefreshTokenByHash(ctx, want.TokenHash)
		must(t, "refresh token by hash", err)
		check(t, "refresh token", normToken(*got), normToken(*want))
	}
	absent := func(t *testing.T, s store.Store, hash string) {
		t.Helper()
		_, err := s.RefreshTokenByHash(ctx, hash)
		wantErr(t, "token that must not exist", err, store.ErrNotFound)
	}

	t.Run("create and get", func(t *testing.T) {
		s := newStore(t)
		tok := newToken(newID("fam"), newID("sid"))
		must(t, "create", s.CreateRefreshToken(ctx, tok))
		tokenIs(t, s, tok)
		bare := &store.RefreshToken{ID: newID("rt"), TokenHash: newID("hash"), FamilyID: newID("fam"),
			CitizenID: "c", ClientID: "p", ExpiresAt: base}
		must(t, "create bare token", s.CreateRefreshToken(ctx, bare))
		tokenIs(t, s, bare)

		dup := newToken(newID("fam"), "")
		dup.TokenHash = tok.TokenHash
		wantErr(t, "duplicate hash", s.CreateRefreshToken(ctx, dup), store.ErrConflict)
		dupID := newToken(newID("fam"), "")
		dupID.ID = tok.ID
		wantErr(t, "duplicate id", s.CreateRefreshToken(ctx, dupID), store.ErrConflict)
		absent(t, s, "no-such-hash")
	})

	t.Run("rotate", func(t *testing.T) {
		s := newStore(t)
		fam := newID("fam")
		t1 := newToken(fam, "sid")
		must(t, "create", s.CreateRefreshToken(ctx, t1))
		t2 := newToken(fam, "sid")
		must(t, "rotate t1", s.RotateRefreshToken(ctx, t1.TokenHash, t2, now))
		t1.UsedAt = now
		tokenIs(t, s, t1)
		tokenIs(t, s, t2)

		t3 := newToken(fam, "sid")
		wantErr(t, "rotate t1 again", s.RotateRefreshToken(ctx, t1.TokenHash, t3, now.Add(time.Minute)), store.ErrTokenReused)
		absent(t, s, t3.TokenHash)
		tokenIs(t, s, t1) // UsedAt not moved by the failed rotation

		must(t, "rotate t2", s.RotateRefreshToken(ctx, t2.TokenHash, t3, now.Add(time.Minute)))
		tokenIs(t, s, t3)

		t4 := newToken(fam, "sid")
		wantErr(t, "rotate unknown", s.RotateRefreshToken(ctx, "no-such-hash", t4, now), store.ErrNotFound)
		absent(t, s, t4.TokenHash)

		dup := newToken(fam, "sid")
		dup.TokenHash = t1.TokenHash
		wantErr(t, "rotate into an existing hash", s.RotateRefreshToken(ctx, t3.TokenHash, dup, now), store.ErrConflict)
		got, err := s.RefreshTokenByHash(ctx, t3.TokenHash)
		must(t, "t3 after failed rotation", err)
		if !got.UsedAt.IsZero() {
			t.Errorf("t3 UsedAt after a rotation that failed to insert: got %v, want zero", got.UsedAt)
		}
	})

	t.Run("rotate revoked", func(t *testing.T) {
		s := newStore(t)
		fam := newID("fam")
		tok := newToken(fam, "sid")
		must(t, "create", s.CreateRefreshToken(ctx, tok))
		must(t, "revoke family", s.RevokeRefreshFamily(ctx, fam, now))
		next := newToken(fam, "sid")
		wantErr(t, "rotate revoked", s.RotateRefreshToken(ctx, tok.TokenHash, next, now), store.ErrTokenReused)
		absent(t, s, next.TokenHash)
	})

	t.Run("revoke family", func(t *testing.T) {
		s := newStore(t)
		famA, famB := newID("fam"), newID("fam")
		a1, b1 := newToken(famA, "sid"), newToken(famB, "sid")
		must(t, "create a1", s.CreateRefreshToken(ctx, a1))
		must(t, "create b1", s.CreateRefreshToken(ctx, b1))
		a2 := newToken(famA, "sid")
		must(t, "rotate a1", s.RotateRefreshToken(ctx, a1.TokenHash, a2, now))
		a1.UsedAt = now

		at := now.Add(time.Minute)
		must(t, "revoke family A", s.RevokeRefreshFamily(ctx, famA, at))
		a1.RevokedAt, a2.RevokedAt = at, at
		tokenIs(t, s, a1)
		tokenIs(t, s, a2)
		tokenIs(t, s, b1)
		must(t, "revoke unknown family", s.RevokeRefreshFamily(ctx, newID("fam"), at))
	})

	t.Run("revoke by session", func(t *testing.T) {
		s := newStore(t)
		x, y, z := newToken(newID("fam"), "sid-1"), newToken(newID("fam"), "sid-1"), newToken(newID("fam"), "sid-2")
		earlier := now.Add(-time.Hour)
		y.RevokedAt = earlier
		for _, tok := range []*store.RefreshToken{x, y, z} {
			must(t, "create", s.CreateRefreshToken(ctx, tok))
		}
		must(t, "revoke session", s.RevokeRefreshTokensBySession(ctx, "sid-1", now))
		x.RevokedAt = now
		tokenIs(t, s, x)
		tokenIs(t, s, y) // already revoked: keeps its time
		tokenIs(t, s, z)
	})

	t.Run("delete expired", func(t *testing.T) {
		s := newStore(t)
		cut := base.Add(48 * time.Hour)
		var kept, gone []*store.RefreshToken
		for _, d := range []time.Duration{-time.Hour, -time.Microsecond, 0, time.Hour} {
			tok := newToken(newID("fam"), "sid")
			tok.ExpiresAt = cut.Add(d)
			must(t, "create", s.CreateRefreshToken(ctx, tok))
			if d < 0 {
				gone = append(gone, tok)
			} else {
				kept = append(kept, tok)
			}
		}
		n, err := s.DeleteExpiredRefreshTokens(ctx, cut)
		must(t, "delete expired", err)
		if n != int64(len(gone)) {
			t.Errorf("deleted: got %d, want %d", n, len(gone))
		}
		for _, tok := range gone {
			absent(t, s, tok.TokenHash)
		}
		for _, tok := range kept {
			tokenIs(t, s, tok)
		}
		n, err = s.DeleteExpiredRefreshTokens(ctx, cut)
		must(t, "delete expired again", err)
		if n != 0 {
			t.Errorf("deleted the second time: got %d, want 0", n)
		}
	})
}

func testConcurrentRotation(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d rotations", n), func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			fam := newID("fam")
			old := newToken(fam, "sid")
			must(t, "create", s.CreateRefreshToken(ctx, old))
			nexts := make([]*store.RefreshToken, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				nexts[i] = newToken(fam, "sid")
				wg.Go(func() {
					<-start
					errs[i] = s.RotateRefreshToken(ctx, old.TokenHash, nexts[i], base.Add(time.Hour))
				})
			}
			close(start)
			wg.Wait()
			winners := 0
			for i, err := range errs {
				_, getErr := s.RefreshTokenByHash(ctx, nexts[i].TokenHash)
				switch {
				case err == nil:
					winners++
					if getErr != nil {
						t.Errorf("winner %d's next token: got error %v, want it stored", i, getErr)
					}
				case errors.Is(err, store.ErrTokenReused):
					if !errors.Is(getErr, store.ErrNotFound) {
						t.Errorf("loser %d's next token: got error %v, want %v", i, getErr, store.ErrNotFound)
					}
				default:
					t.Errorf("rotation %d: got error %v, want nil or %v", i, err, store.ErrTokenReused)
				}
			}
			if winners != 1 {
				t.Errorf("successful rotations: got %d, want 1", winners)
			}
		})
	}
}

func testAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	in := []store.AuditEvent{
		{Time: base, Actor: "cli", Action: "client.create", Target: "client:portal", Outcome: "success",
			Details: map[string]string{"name": "Cổng", "redirect_uris": "2"}},
		{Time: base.Add(time.Second), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1",
			Outcome: "failure", ClientIP: "203.0.113.7"},
		{Actor: "system", Action: "keys.rotate", Outcome: "success", Details: map[string]string{}}, // zero Time
	}
	var appended []store.AuditEvent
	for i := range in {
		e := in[i]
		must(t, "append", s.AppendAudit(ctx, &e))
		if e.Seq != int64(i+1) {
			t.Errorf("event %d Seq: got %d, want %d", i, e.Seq, i+1)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = appended[i-1].Hash
		}
		if e.PrevHash != wantPrev {
			t.Errorf("event %d PrevHash: got %q, want %q", i, e.PrevHash, wantPrev)
		}
		if h := store.AuditHash(e.PrevHash, &e); e.Hash != h {
			t.Errorf("event %d Hash: got %q, want %q", i, e.Hash, h)
		}
		if e.Time.IsZero() {
			t.Errorf("event %d Time: got zero, want the store's clock", i)
		}
		appended = append(appended, e)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, "list audit", err)
	check(t, "listed events", normEvents(got), normEvents(appended))
	if err := store.VerifyAuditChain(got); err != nil {
		t.Errorf("verify chain: got %v, want nil", err)
	}

	tampered := slices.Clone(got)
	tampered[1].Outcome = "success"
	var chainErr *store.AuditChainError
	if err := store.VerifyAuditChain(tampered); !errors.As(err, &chainErr) || chainErr.Seq != 2 {
		t.Errorf("verify tampered chain: got %v, want an *AuditChainError at seq 2", err)
	}
}

func testAuditConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const writers, each = 10, 5
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				e := &store.AuditEvent{Actor: fmt.Sprintf("admin:%d", w), Action: "citizen.update",
					Outcome: "success", Details: map[string]string{"i": fmt.Sprint(i)}}
				if err := s.AppendAudit(ctx, e); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: got error %v, want nil", w, err)
		}
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	must(t, "list audit", err)
	if len(got) != writers*each {
		t.Fatalf("events: got %d, want %d", len(got), writers*each)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d Seq: got %d, want %d", i, e.Seq, i+1)
		}
	}
	if err := store.VerifyAuditChain(got); err != nil {
		t.Errorf("verify chain: got %v, want nil", err)
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.Actor+"/"+e.Details["i"]] = true
	}
	if len(seen) != writers*each {
		t.Errorf("distinct events: got %d, want %d", len(seen), writers*each)
	}
}

func testAuditFilter(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	events := []store.AuditEvent{
		{Time: at(0), Actor: "admin:1", Action: "client.create", Target: "client:a", Outcome: "success"},
		{Time: at(1), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1", Outcome: "failure"},
		{Time: at(2), Actor: "citizen:c1", Action: "login.password", Target: "citizen:c1", Outcome: "success"},
		{Time: at(3), Actor: "admin:1", Action: "client.update", Target: "client:a", Outcome: "success"},
		{Time: at(4), Actor: "citizen:c2", Action: "login.password", Target: "citizen:c2", Outcome: "throttled"},
		{Time: at(5), Actor: "cli", Action: "citizen.create", Target: "citizen:c3", Outcome: "success"},
	}
	for i := range events {
		must(t, "append", s.AppendAudit(ctx, &events[i]))
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"none", store.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6}},
		{"actor", store.AuditFilter{Actor: "citizen:c1"}, []int64{2, 3}},
		{"action", store.AuditFilter{Action: "login.password"}, []int64{2, 3, 5}},
		{"target", store.AuditFilter{Target: "client:a"}, []int64{1, 4}},
		{"outcome", store.AuditFilter{Outcome: "success"}, []int64{1, 3, 4, 6}},
		{"action and outcome", store.AuditFilter{Action: "login.password", Outcome: "failure"}, []int64{2}},
		{"since is inclusive", store.AuditFilter{Since: at(4)}, []int64{5, 6}},
		{"until is exclusive", store.AuditFilter{Until: at(2)}, []int64{1, 2}},
		{"since and until", store.AuditFilter{Since: at(1), Until: at(3)}, []int64{2, 3}},
		{"since in another zone", store.AuditFilter{Since: at(4).UTC()}, []int64{5, 6}},
		{"time and actor", store.AuditFilter{Since: at(1), Actor: "admin:1"}, []int64{4}},
		{"after seq with filter", store.AuditFilter{Action: "login.password", AfterSeq: 2}, []int64{3, 5}},
		{"limit with filter", store.AuditFilter{Outcome: "success", Limit: 2}, []int64{1, 3}},
		{"no match", store.AuditFilter{Actor: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			must(t, "list audit", err)
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			check(t, "seqs", seqs, tt.want)
		})
	}
}

func testAuditPaging(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const total = 105 // more than the default limit of 100
	for i := range total {
		must(t, "append", s.AppendAudit(ctx, &store.AuditEvent{Time: base.Add(time.Duration(i) * time.Second),
			Actor: "system", Action: "page.test", Outcome: "success"}))
	}
	seqs := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"first page", store.AuditFilter{Limit: 3}, seqs(1, 3)},
		{"next page", store.AuditFilter{AfterSeq: 3, Limit: 3}, seqs(4, 6)},
		{"last page", store.AuditFilter{AfterSeq: 103, Limit: 3}, seqs(104, 105)},
		{"past the end", store.AuditFilter{AfterSeq: 105, Limit: 3}, nil},
		{"default limit", store.AuditFilter{}, seqs(1, 100)},
		{"default limit after seq", store.AuditFilter{AfterSeq: 100}, seqs(101, 105)},
		{"large limit", store.AuditFilter{Limit: 500}, seqs(1, 105)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			must(t, "list audit", err)
			var gotSeqs []int64
			for _, e := range got {
				gotSeqs = append(gotSeqs, e.Seq)
			}
			check(t, "seqs", gotSeqs, tt.want)
		})
	}

	// Walking the whole log page by page verifies as one chain.
	var all []store.AuditEvent
	for after := int64(0); ; {
		page, err := s.ListAudit(ctx, store.AuditFilter{AfterSeq: after, Limit: 40})
		must(t, "list audit page", err)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != total {
		t.Errorf("events over all pages: got %d, want %d", len(all), total)
	}
	if err := store.VerifyAuditChain(all); err != nil {
		t.Errorf("verify paged chain: got %v, want nil", err)
	}
}
