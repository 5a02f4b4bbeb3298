package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// newTOTP is an unconfirmed credential. The secret stands for sealed bytes:
// binary, with a zero byte, as keys.Sealer output is.
func newTOTP(citizenID string) *store.TOTPCredential {
	return &store.TOTPCredential{
		CitizenID: citizenID,
		Secret:    []byte{0x01, 0x00, 0xff, 0x7f, 's', 'e', 'a', 'l', 'e', 'd', 0x00},
		CreatedAt: base,
	}
}

func normTOTP(c store.TOTPCredential) store.TOTPCredential {
	c.Secret = normBytes(c.Secret)
	c.CreatedAt = normTime(c.CreatedAt)
	c.ConfirmedAt = normTime(c.ConfirmedAt)
	c.LastUsedAt = normTime(c.LastUsedAt)
	return c
}

func testTOTP(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	other := newCitizen("001090000002")
	must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))

	totpIs := func(t *testing.T, want *store.TOTPCredential) {
		t.Helper()
		got, err := s.TOTP(ctx, want.CitizenID)
		must(t, "totp", err)
		check(t, "totp credential", normTOTP(*got), normTOTP(*want))
		for _, v := range []struct {
			field string
			got   time.Time
		}{{"CreatedAt", got.CreatedAt}, {"ConfirmedAt", got.ConfirmedAt}, {"LastUsedAt", got.LastUsedAt}} {
			if !v.got.IsZero() && v.got.Location() != time.UTC {
				t.Errorf("%s location: got %v, want UTC", v.field, v.got.Location())
			}
		}
	}

	t.Run("errors before enrolment", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"get absent", func() error { _, err := s.TOTP(ctx, c.ID); return err }(), store.ErrNotFound},
			{"update absent", s.UpdateTOTP(ctx, c.ID, func(*store.TOTPCredential) error {
				t.Errorf("fn called for an absent credential")
				return nil
			}), store.ErrNotFound},
			{"delete absent", s.DeleteTOTP(ctx, c.ID), store.ErrNotFound},
			{"put for unknown citizen", s.PutTOTP(ctx, newTOTP("no-such-citizen")), store.ErrNotFound},
			{"get for unknown citizen", func() error { _, err := s.TOTP(ctx, "no-such-citizen"); return err }(), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
	})

	cred := newTOTP(c.ID)
	must(t, "put totp", s.PutTOTP(ctx, cred))

	t.Run("get", func(t *testing.T) {
		totpIs(t, cred)
		if !cred.CreatedAt.Equal(normTime(base)) {
			t.Errorf("normalised argument: got %v, want %v", cred.CreatedAt, normTime(base))
		}
		got, err := s.TOTP(ctx, c.ID)
		must(t, "totp", err)
		if got.Confirmed || got.LastStep != 0 || !got.ConfirmedAt.IsZero() || !got.LastUsedAt.IsZero() {
			t.Errorf("fresh credential: got confirmed %v step %d confirmed at %v used at %v, want false, 0, zero, zero",
				got.Confirmed, got.LastStep, got.ConfirmedAt, got.LastUsedAt)
		}
		_, err = s.TOTP(ctx, other.ID)
		wantErr(t, "other citizen's credential", err, store.ErrNotFound)
	})

	t.Run("put fills CreatedAt", func(t *testing.T) {
		o := &store.TOTPCredential{CitizenID: other.ID, Secret: []byte("other sealed")}
		must(t, "put totp", s.PutTOTP(ctx, o))
		if o.CreatedAt.IsZero() {
			t.Errorf("CreatedAt: got zero, want the store's clock")
		}
		totpIs(t, o)
	})

	t.Run("update", func(t *testing.T) {
		confirmedAt := base.Add(time.Minute)
		usedAt := base.Add(2 * time.Minute)
		must(t, "update totp", s.UpdateTOTP(ctx, c.ID, func(got *store.TOTPCredential) error {
			check(t, "credential passed to fn", normTOTP(*got), normTOTP(*cred))
			got.Confirmed = true
			got.ConfirmedAt = confirmedAt
			got.LastStep = 58_000_000_123 // beyond 32 bits
			got.LastUsedAt = usedAt
			return nil
		}))
		cred.Confirmed, cred.ConfirmedAt, cred.LastStep, cred.LastUsedAt = true, confirmedAt, 58_000_000_123, usedAt
		totpIs(t, cred)
	})

	t.Run("update fn error writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		wantErr(t, "update with failing fn", s.UpdateTOTP(ctx, c.ID, func(got *store.TOTPCredential) error {
			got.LastStep++
			got.Confirmed = false
			return boom
		}), boom)
		totpIs(t, cred)
	})

	t.Run("update cannot change citizen id", func(t *testing.T) {
		err := s.UpdateTOTP(ctx, c.ID, func(got *store.TOTPCredential) error {
			got.CitizenID = other.ID
			got.LastStep++
			return nil
		})
		if err == nil {
			t.Errorf("update changing citizen id: got nil error, want an error")
		}
		totpIs(t, cred)
	})

	t.Run("put replaces and keeps recovery codes", func(t *testing.T) {
		must(t, "replace recovery codes", s.ReplaceRecoveryCodes(ctx, c.ID, []string{"h1", "h2"}))
		fresh := &store.TOTPCredential{CitizenID: c.ID, Secret: []byte("new sealed secret"), CreatedAt: base.Add(time.Hour)}
		must(t, "put totp again", s.PutTOTP(ctx, fresh))
		totpIs(t, fresh) // unconfirmed, step 0, no confirmation or use times
		left, err := s.RecoveryCodesLeft(ctx, c.ID)
		must(t, "recovery codes left", err)
		if left != 2 {
			t.Errorf("recovery codes after put: got %d, want 2 (put does not touch them)", left)
		}
		*cred = *fresh
	})

	t.Run("delete", func(t *testing.T) {
		must(t, "delete totp", s.DeleteTOTP(ctx, c.ID))
		_, err := s.TOTP(ctx, c.ID)
		wantErr(t, "deleted credential", err, store.ErrNotFound)
		wantErr(t, "delete again", s.DeleteTOTP(ctx, c.ID), store.ErrNotFound)
		wantErr(t, "update deleted", s.UpdateTOTP(ctx, c.ID, func(*store.TOTPCredential) error { return nil }), store.ErrNotFound)
		if _, err := s.TOTP(ctx, other.ID); err != nil {
			t.Errorf("other citizen's credential after delete: got error %v, want nil", err)
		}
		// Enrolment can start again.
		must(t, "put after delete", s.PutTOTP(ctx, newTOTP(c.ID)))
	})
}

// testTOTPConcurrentUpdate checks that UpdateTOTP serialises fn: the
// replay protection of TOTP rests on it.
func testTOTPConcurrentUpdate(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	must(t, "put totp", s.PutTOTP(ctx, newTOTP(c.ID)))
	const n = 10

	t.Run("compare and set", func(t *testing.T) {
		read := func() (int64, error) {
			cur, err := s.TOTP(ctx, c.ID)
			if err != nil {
				return 0, err
			}
			return cur.LastStep, nil
		}
		compareAndSetRounds(t, 5, n, 0, read, func(seen int64) error {
			return s.UpdateTOTP(ctx, c.ID, func(got *store.TOTPCredential) error {
				if got.LastStep != seen {
					return errLost
				}
				got.LastStep = seen + 1
				got.LastUsedAt = base.Add(time.Duration(got.LastStep) * 30 * time.Second)
				return nil
			})
		})
	})

	t.Run("no lost update", func(t *testing.T) {
		before, err := s.TOTP(ctx, c.ID)
		must(t, "totp", err)
		const each = 5
		errs := make([]error, n)
		atOnce(n, func(i int) {
			for range each {
				if err := s.UpdateTOTP(ctx, c.ID, func(got *store.TOTPCredential) error {
					got.LastStep++
					return nil
				}); err != nil {
					errs[i] = err
					return
				}
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("updater %d: got error %v, want nil", i, err)
			}
		}
		got, err := s.TOTP(ctx, c.ID)
		must(t, "totp", err)
		if want := before.LastStep + n*each; got.LastStep != want {
			t.Errorf("LastStep after %d increments: got %d, want %d", n*each, got.LastStep, want)
		}
	})
}

func testRecoveryCodes(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	other := newCitizen("001090000002")
	must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))
	now := base.Add(time.Hour)

	leftIs := func(t *testing.T, citizenID string, want int) {
		t.Helper()
		got, err := s.RecoveryCodesLeft(ctx, citizenID)
		must(t, "recovery codes left", err)
		if got != want {
			t.Errorf("recovery codes left for %s: got %d, want %d", citizenID, got, want)
		}
	}

	leftIs(t, c.ID, 0)
	leftIs(t, "no-such-citizen", 0)
	wantErr(t, "replace for unknown citizen", s.ReplaceRecoveryCodes(ctx, "no-such-citizen", []string{"h"}), store.ErrNotFound)
	wantErr(t, "replace with none for unknown citizen", s.ReplaceRecoveryCodes(ctx, "no-such-citizen", nil), store.ErrNotFound)
	wantErr(t, "use before any", s.UseRecoveryCode(ctx, c.ID, "h1", now), store.ErrNotFound)

	must(t, "replace recovery codes", s.ReplaceRecoveryCodes(ctx, c.ID, []string{"h1", "h2", "h3"}))
	must(t, "replace other's recovery codes", s.ReplaceRecoveryCodes(ctx, other.ID, []string{"h1", "o2"}))
	leftIs(t, c.ID, 3)
	leftIs(t, other.ID, 2)

	t.Run("use", func(t *testing.T) {
		must(t, "use h2", s.UseRecoveryCode(ctx, c.ID, "h2", now))
		leftIs(t, c.ID, 2)
		wantErr(t, "use h2 again", s.UseRecoveryCode(ctx, c.ID, "h2", now.Add(time.Minute)), store.ErrNotFound)
		wantErr(t, "use an unknown hash", s.UseRecoveryCode(ctx, c.ID, "nope", now), store.ErrNotFound)
		wantErr(t, "use another citizen's code", s.UseRecoveryCode(ctx, c.ID, "o2", now), store.ErrNotFound)
		wantErr(t, "use a code of an unknown citizen", s.UseRecoveryCode(ctx, "no-such-citizen", "h1", now), store.ErrNotFound)
		leftIs(t, c.ID, 2)
		leftIs(t, other.ID, 2)
		// The same hash held by two citizens is two codes.
		must(t, "use h1", s.UseRecoveryCode(ctx, c.ID, "h1", now))
		leftIs(t, c.ID, 1)
		leftIs(t, other.ID, 2)
	})

	t.Run("replace", func(t *testing.T) {
		// Replacing drops used and unused codes alike; a hash used before
		// is a fresh code in the new set.
		must(t, "replace recovery codes", s.ReplaceRecoveryCodes(ctx, c.ID, []string{"h2", "h4"}))
		leftIs(t, c.ID, 2)
		wantErr(t, "use a code of the old set", s.UseRecoveryCode(ctx, c.ID, "h3", now), store.ErrNotFound)
		must(t, "use h2 of the new set", s.UseRecoveryCode(ctx, c.ID, "h2", now))
		leftIs(t, c.ID, 1)
		leftIs(t, other.ID, 2)
	})

	t.Run("replace with a duplicate changes nothing", func(t *testing.T) {
		wantErr(t, "replace with a duplicate", s.ReplaceRecoveryCodes(ctx, c.ID, []string{"h5", "h6", "h5"}), store.ErrConflict)
		leftIs(t, c.ID, 1)
		must(t, "use h4 of the kept set", s.UseRecoveryCode(ctx, c.ID, "h4", now))
		leftIs(t, c.ID, 0)
	})

	t.Run("replace with none", func(t *testing.T) {
		must(t, "replace with none", s.ReplaceRecoveryCodes(ctx, c.ID, nil))
		leftIs(t, c.ID, 0)
		leftIs(t, other.ID, 2)
	})

	t.Run("delete totp removes codes", func(t *testing.T) {
		must(t, "replace recovery codes", s.ReplaceRecoveryCodes(ctx, c.ID, []string{"h8", "h9"}))
		// Without a credential DeleteTOTP removes nothing.
		wantErr(t, "delete absent credential", s.DeleteTOTP(ctx, c.ID), store.ErrNotFound)
		leftIs(t, c.ID, 2)
		must(t, "put totp", s.PutTOTP(ctx, newTOTP(c.ID)))
		must(t, "put other's totp", s.PutTOTP(ctx, newTOTP(other.ID)))
		must(t, "delete totp", s.DeleteTOTP(ctx, c.ID))
		leftIs(t, c.ID, 0)
		wantErr(t, "use a code after delete", s.UseRecoveryCode(ctx, c.ID, "h8", now), store.ErrNotFound)
		leftIs(t, other.ID, 2)
	})
}

func testRecoveryCodesConcurrentUse(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000001")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	hashes := make([]string, 10)
	for i := range hashes {
		hashes[i] = fmt.Sprintf("hash-%d", i)
	}
	must(t, "replace recovery codes", s.ReplaceRecoveryCodes(ctx, c.ID, hashes))

	// Two logins present one code at once: exactly one gets in.
	const n = 10
	errs := make([]error, n)
	atOnce(n, func(i int) { errs[i] = s.UseRecoveryCode(ctx, c.ID, hashes[3], base.Add(time.Duration(i)*time.Second)) })
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("use %d: got error %v, want nil or %v", i, err, store.ErrNotFound)
		}
	}
	if winners != 1 {
		t.Errorf("successful uses: got %d, want 1", winners)
	}
	left, err := s.RecoveryCodesLeft(ctx, c.ID)
	must(t, "recovery codes left", err)
	if left != len(hashes)-1 {
		t.Errorf("recovery codes left: got %d, want %d", left, len(hashes)-1)
	}
}
