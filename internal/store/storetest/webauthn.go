package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// newWebAuthn is a device-bound credential of the citizen. The byte fields
// are binary, with zero bytes, as authenticators send them.
func newWebAuthn(citizenID string, id byte, created time.Time) *store.WebAuthnCredential {
	return &store.WebAuthnCredential{
		ID:                []byte{0x00, id, 0xff, 0x10, 0x00},
		CitizenID:         citizenID,
		PublicKey:         []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x00, id},
		SignCount:         7,
		AAGUID:            []byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03},
		Transports:        []string{"internal", "hybrid"},
		AttestationFormat: "none",
		UserVerified:      true,
		Name:              "Điện thoại của tôi",
		CreatedAt:         created,
	}
}

func normWebAuthn(c store.WebAuthnCredential) store.WebAuthnCredential {
	c.PublicKey = normBytes(c.PublicKey)
	c.AAGUID = normBytes(c.AAGUID)
	c.Transports = normStrings(c.Transports)
	c.CreatedAt = normTime(c.CreatedAt)
	c.LastUsedAt = normTime(c.LastUsedAt)
	return c
}

func testWebAuthn(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	other := newCitizen("001090000002")
	must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))

	first := newWebAuthn(c.ID, 1, base)
	second := newWebAuthn(c.ID, 2, base.Add(time.Minute))
	second.BackupEligible, second.BackupState = true, true
	second.Transports = nil
	second.AAGUID = make([]byte, 16)
	second.Name = "Passkey đồng bộ"
	second.SignCount = 0
	third := newWebAuthn(c.ID, 3, time.Time{}) // CreatedAt from the store's clock
	theirs := newWebAuthn(other.ID, 4, base)

	t.Run("errors before registration", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"get absent", func() error { _, err := s.WebAuthnCredentialByID(ctx, first.ID); return err }(), store.ErrNotFound},
			{"use absent", func() error { _, _, err := s.RecordWebAuthnUse(ctx, first.ID, 1, false, base); return err }(), store.ErrNotFound},
			{"delete absent", s.DeleteWebAuthnCredential(ctx, c.ID, first.ID), store.ErrNotFound},
			{"create for unknown citizen", s.CreateWebAuthnCredential(ctx, newWebAuthn("no-such-citizen", 9, base)), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
		list, err := s.ListWebAuthnCredentials(ctx, c.ID)
		must(t, "list", err)
		if len(list) != 0 {
			t.Errorf("credentials before registration: got %d, want 0", len(list))
		}
	})

	// Created out of order: the list is ordered by creation time.
	for _, cr := range []*store.WebAuthnCredential{second, first, theirs, third} {
		must(t, "create webauthn credential", s.CreateWebAuthnCredential(ctx, cr))
	}

	t.Run("create normalises its argument", func(t *testing.T) {
		if !first.CreatedAt.Equal(normTime(base)) || first.CreatedAt.Location() != time.UTC {
			t.Errorf("normalised CreatedAt: got %v, want %v", first.CreatedAt, normTime(base))
		}
		if third.CreatedAt.IsZero() {
			t.Errorf("CreatedAt left zero: got zero, want the store's clock")
		}
	})

	t.Run("get", func(t *testing.T) {
		for _, want := range []*store.WebAuthnCredential{first, second, third, theirs} {
			got, err := s.WebAuthnCredentialByID(ctx, want.ID)
			must(t, "credential by id", err)
			check(t, "credential", normWebAuthn(*got), normWebAuthn(*want))
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location: got %v, want UTC", got.CreatedAt.Location())
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		got, err := s.ListWebAuthnCredentials(ctx, c.ID)
		must(t, "list", err)
		want := []store.WebAuthnCredential{normWebAuthn(*first), normWebAuthn(*second), normWebAuthn(*third)}
		if len(got) != len(want) {
			t.Fatalf("credentials: got %d, want %d", len(got), len(want))
		}
		for i := range got {
			check(t, "listed credential", normWebAuthn(got[i]), want[i])
		}
		none, err := s.ListWebAuthnCredentials(ctx, "no-such-citizen")
		must(t, "list of unknown citizen", err)
		if len(none) != 0 {
			t.Errorf("credentials of an unknown citizen: got %d, want 0", len(none))
		}
	})

	t.Run("duplicate id", func(t *testing.T) {
		dup := newWebAuthn(c.ID, 1, base)
		wantErr(t, "same citizen", s.CreateWebAuthnCredential(ctx, dup), store.ErrConflict)
		dup = newWebAuthn(other.ID, 1, base)
		wantErr(t, "another citizen", s.CreateWebAuthnCredential(ctx, dup), store.ErrConflict)
		got, err := s.WebAuthnCredentialByID(ctx, first.ID)
		must(t, "credential by id", err)
		if got.CitizenID != c.ID {
			t.Errorf("owner after a refused duplicate: got %s, want %s", got.CitizenID, c.ID)
		}
	})

	t.Run("use", func(t *testing.T) {
		used := base.Add(time.Hour)
		use, _, err := s.RecordWebAuthnUse(ctx, first.ID, 4294967295, true, used) // the largest counter
		must(t, "use", err)
		if use != store.WebAuthnUsed {
			t.Fatalf("use: got %v, want used", use)
		}
		got, err := s.WebAuthnCredentialByID(ctx, first.ID)
		must(t, "credential by id", err)
		want := *first
		want.SignCount, want.LastUsedAt, want.BackupState = 4294967295, used, true
		check(t, "used credential", normWebAuthn(*got), normWebAuthn(want))
		*first = *got
		got, err = s.WebAuthnCredentialByID(ctx, second.ID)
		must(t, "credential by id", err)
		check(t, "the citizen's other credential", normWebAuthn(*got), normWebAuthn(*second))
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, "delete another citizen's credential", s.DeleteWebAuthnCredential(ctx, c.ID, theirs.ID), store.ErrNotFound)
		if _, err := s.WebAuthnCredentialByID(ctx, theirs.ID); err != nil {
			t.Errorf("credential after a refused delete: got error %v, want it kept", err)
		}
		must(t, "delete", s.DeleteWebAuthnCredential(ctx, c.ID, second.ID))
		_, err := s.WebAuthnCredentialByID(ctx, second.ID)
		wantErr(t, "deleted credential", err, store.ErrNotFound)
		wantErr(t, "delete again", s.DeleteWebAuthnCredential(ctx, c.ID, second.ID), store.ErrNotFound)
		list, err := s.ListWebAuthnCredentials(ctx, c.ID)
		must(t, "list", err)
		if len(list) != 2 {
			t.Errorf("credentials after delete: got %d, want 2", len(list))
		}
	})
}

// testWebAuthnConcurrent: a credential ID is registered once however many
// try at the same time (concurrent uses: testWebAuthnUse).
func testWebAuthnConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	const n = 10

	t.Run("one registration per id", func(t *testing.T) {
		errs := make([]error, n)
		atOnce(n, func(i int) { errs[i] = s.CreateWebAuthnCredential(ctx, newWebAuthn(c.ID, 2, base)) })
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("create %d: got error %v, want nil or %v", i, err, store.ErrConflict)
			}
		}
		if created != 1 {
			t.Errorf("successful creates: got %d, want 1", created)
		}
	})
}

// testWebAuthnUse: a login advances the counter, BS and last use in one
// compare-and-set; a counter that does not advance flags the credential
// and changes nothing else; a flagged credential is never touched again;
// of concurrent uses with the same counter exactly one is recorded.
func testWebAuthnUse(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	record := func(cred *store.WebAuthnCredential, count uint32, bs bool, at time.Time, want store.WebAuthnUse, wantStored uint32) {
		t.Helper()
		use, stored, err := s.RecordWebAuthnUse(ctx, cred.ID, count, bs, at)
		must(t, "record use", err)
		if use != want || (want != store.WebAuthnUsed && stored != wantStored) {
			t.Fatalf("use with counter %d: got %v (stored %d), want %v (stored %d)", count, use, stored, want, wantStored)
		}
	}
	read := func(cred *store.WebAuthnCredential) store.WebAuthnCredential {
		t.Helper()
		got, err := s.WebAuthnCredentialByID(ctx, cred.ID)
		must(t, "credential by id", err)
		return normWebAuthn(*got)
	}

	t.Run("counter", func(t *testing.T) {
		cred := newWebAuthn(c.ID, 1, base)
		must(t, "create", s.CreateWebAuthnCredential(ctx, cred))
		t1, t2 := base.Add(time.Hour), base.Add(2*time.Hour)
		record(cred, 8, true, t1, store.WebAuthnUsed, 0)
		want := *cred
		want.SignCount, want.BackupState, want.LastUsedAt = 8, true, t1
		check(t, "after a use", read(cred), normWebAuthn(want))

		record(cred, 8, false, t2, store.WebAuthnRegressed, 8)
		want.Flagged = true
		check(t, "after a regressed counter", read(cred), normWebAuthn(want))

		record(cred, 100, false, t2, store.WebAuthnFlagged, 8)
		check(t, "a flagged credential used again", read(cred), normWebAuthn(want))
	})

	t.Run("no counter", func(t *testing.T) {
		cred := newWebAuthn(c.ID, 2, base)
		cred.SignCount = 0
		must(t, "create", s.CreateWebAuthnCredential(ctx, cred))
		record(cred, 0, false, base.Add(time.Minute), store.WebAuthnUsed, 0)
		record(cred, 0, false, base.Add(2*time.Minute), store.WebAuthnUsed, 0)
		if got := read(cred); got.Flagged || !got.LastUsedAt.Equal(normTime(base.Add(2*time.Minute))) {
			t.Fatalf("an authenticator without a counter, used twice: got %+v", got)
		}
		record(cred, 4294967295, false, base.Add(3*time.Minute), store.WebAuthnUsed, 0) // the largest counter
		if got := read(cred); got.SignCount != 4294967295 {
			t.Fatalf("counter: got %d, want 4294967295", got.SignCount)
		}
		record(cred, 0, false, base.Add(4*time.Minute), store.WebAuthnRegressed, 4294967295)
	})

	t.Run("absent", func(t *testing.T) {
		_, _, err := s.RecordWebAuthnUse(ctx, []byte("nobody's"), 1, false, base)
		wantErr(t, "an absent credential", err, store.ErrNotFound)
	})

	t.Run("concurrent uses", func(t *testing.T) {
		cred := newWebAuthn(c.ID, 3, base)
		must(t, "create", s.CreateWebAuthnCredential(ctx, cred))
		const n = 10
		uses := make([]store.WebAuthnUse, n)
		errs := make([]error, n)
		atOnce(n, func(i int) {
			uses[i], _, errs[i] = s.RecordWebAuthnUse(ctx, cred.ID, cred.SignCount+1, false, base)
		})
		count := map[store.WebAuthnUse]int{}
		for i, err := range errs {
			must(t, "record use", err)
			count[uses[i]]++
		}
		if count[store.WebAuthnUsed] != 1 || count[store.WebAuthnUsed]+count[store.WebAuthnRegressed]+count[store.WebAuthnFlagged] != n {
			t.Fatalf("%d concurrent uses with one counter: got %v, want exactly one used", n, count)
		}
	})
}
