package storetest

import (
	"errors"
	"sync"
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
			{"update absent", s.UpdateWebAuthnCredential(ctx, first.ID, func(*store.WebAuthnCredential) error {
				t.Errorf("fn called for an absent credential")
				return nil
			}), store.ErrNotFound},
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

	t.Run("update", func(t *testing.T) {
		used := base.Add(time.Hour)
		must(t, "update", s.UpdateWebAuthnCredential(ctx, first.ID, func(got *store.WebAuthnCredential) error {
			check(t, "credential passed to fn", normWebAuthn(*got), normWebAuthn(*first))
			got.SignCount = 4294967295 // the largest counter
			got.LastUsedAt = used
			got.BackupState = true
			got.Flagged = true
			return nil
		}))
		got, err := s.WebAuthnCredentialByID(ctx, first.ID)
		must(t, "credential by id", err)
		want := *first
		want.SignCount, want.LastUsedAt, want.BackupState, want.Flagged = 4294967295, used, true, true
		check(t, "updated credential", normWebAuthn(*got), normWebAuthn(want))
		*first = *got
	})

	t.Run("update fn error writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		wantErr(t, "update with failing fn", s.UpdateWebAuthnCredential(ctx, second.ID, func(got *store.WebAuthnCredential) error {
			got.SignCount = 99
			got.Flagged = true
			return boom
		}), boom)
		got, err := s.WebAuthnCredentialByID(ctx, second.ID)
		must(t, "credential by id", err)
		check(t, "credential after failed update", normWebAuthn(*got), normWebAuthn(*second))
	})

	t.Run("update cannot change owner or id", func(t *testing.T) {
		for name, fn := range map[string]func(*store.WebAuthnCredential){
			"citizen": func(got *store.WebAuthnCredential) { got.CitizenID = other.ID },
			"id":      func(got *store.WebAuthnCredential) { got.ID = []byte("another id") },
		} {
			err := s.UpdateWebAuthnCredential(ctx, second.ID, func(got *store.WebAuthnCredential) error {
				fn(got)
				return nil
			})
			if err == nil {
				t.Errorf("update changing %s: got nil error, want an error", name)
			}
		}
		got, err := s.WebAuthnCredentialByID(ctx, second.ID)
		must(t, "credential by id", err)
		check(t, "credential after refused updates", normWebAuthn(*got), normWebAuthn(*second))
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

// testWebAuthnConcurrent: the signature counter is a compare-and-set, so
// of logins that read the same counter exactly one wins; and a credential ID
// is registered once however many try at the same time.
func testWebAuthnConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	cred := newWebAuthn(c.ID, 1, base)
	must(t, "create", s.CreateWebAuthnCredential(ctx, cred))
	const n = 10

	t.Run("compare and set", func(t *testing.T) {
		read := func() (int64, error) {
			cur, err := s.WebAuthnCredentialByID(ctx, cred.ID)
			if err != nil {
				return 0, err
			}
			return int64(cur.SignCount), nil
		}
		compareAndSetRounds(t, 4, n, int64(cred.SignCount), read, func(seen int64) error {
			return s.UpdateWebAuthnCredential(ctx, cred.ID, func(got *store.WebAuthnCredential) error {
				if int64(got.SignCount) != seen {
					return errLost
				}
				got.SignCount = uint32(seen) + 1
				return nil
			})
		})
	})

	t.Run("one registration per id", func(t *testing.T) {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.CreateWebAuthnCredential(ctx, newWebAuthn(c.ID, 2, base))
			})
		}
		close(start)
		wg.Wait()
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
