package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func newBinding(citizenID, serial, spki string) *store.CertificateBinding {
	return &store.CertificateBinding{
		ID:             newID("cb"),
		CitizenID:      citizenID,
		Issuer:         "CN=Test Issuing CA,O=CitizenID Test PKI,C=VN",
		Serial:         serial,
		SPKIThumbprint: spki,
		Name:           "USB token — Bình",
		CreatedAt:      base,
	}
}

func normBinding(b store.CertificateBinding) store.CertificateBinding {
	b.CreatedAt = normTime(b.CreatedAt)
	b.LastUsedAt = normTime(b.LastUsedAt)
	return b
}

func normBindings(l []store.CertificateBinding) []store.CertificateBinding {
	var out []store.CertificateBinding
	for _, b := range l {
		out = append(out, normBinding(b))
	}
	return out
}

func testCertificateBindings(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	c := newCitizen("001090000011")
	must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
	other := newCitizen("001090000012")
	must(t, "create other citizen", s.CreateCitizen(ctx, other, ""))

	t.Run("none", func(t *testing.T) {
		got, err := s.CertificateBindingsOf(ctx, c.ID)
		must(t, "bindings of", err)
		if got != nil {
			t.Errorf("bindings of a citizen without any: got %v, want nil", got)
		}
		_, err = s.FindCertificateBinding(ctx, "CN=x", "01", "spki")
		wantErr(t, "find absent", err, store.ErrNotFound)
	})

	first := newBinding(c.ID, "0A1B", "spki-first")
	second := newBinding(c.ID, "0C2D", "spki-second")
	second.CreatedAt = base.Add(time.Minute)
	second.Name = ""
	t.Run("create and list", func(t *testing.T) {
		must(t, "create second", s.CreateCertificateBinding(ctx, second))
		must(t, "create first", s.CreateCertificateBinding(ctx, first))
		if first.CreatedAt.Location() != time.UTC || !first.CreatedAt.Equal(normTime(base)) {
			t.Errorf("caller's CreatedAt: got %v, want it normalised to %v", first.CreatedAt, normTime(base))
		}
		got, err := s.CertificateBindingsOf(ctx, c.ID)
		must(t, "bindings of", err)
		check(t, "bindings, oldest first", normBindings(got), normBindings([]store.CertificateBinding{*first, *second}))
		for _, b := range got {
			if b.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location: got %v, want UTC", b.CreatedAt.Location())
			}
		}
		got, err = s.CertificateBindingsOf(ctx, other.ID)
		must(t, "bindings of other", err)
		if got != nil {
			t.Errorf("other citizen's bindings: got %v, want nil", got)
		}
	})

	t.Run("store clock fills CreatedAt", func(t *testing.T) {
		b := newBinding(other.ID, "0F", "spki-clock")
		b.CreatedAt = time.Time{}
		must(t, "create", s.CreateCertificateBinding(ctx, b))
		if b.CreatedAt.IsZero() {
			t.Fatal("CreatedAt: got zero, want the store's clock")
		}
		must(t, "delete", s.DeleteCertificateBinding(ctx, other.ID, b.ID))
	})

	t.Run("find", func(t *testing.T) {
		tests := []struct {
			name                 string
			issuer, serial, spki string
			want                 *store.CertificateBinding
		}{
			{"issuer and serial", first.Issuer, first.Serial, "unrelated", first},
			{"spki thumbprint", "CN=Other CA", "FF", second.SPKIThumbprint, second},
			{"issuer and serial win over spki", first.Issuer, first.Serial, second.SPKIThumbprint, first},
			{"serial of another issuer", "CN=Other CA", first.Serial, "unrelated", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.FindCertificateBinding(ctx, tt.issuer, tt.serial, tt.spki)
				if tt.want == nil {
					wantErr(t, "find", err, store.ErrNotFound)
					return
				}
				must(t, "find", err)
				check(t, "binding", normBinding(*got), normBinding(*tt.want))
			})
		}
	})

	t.Run("conflicts", func(t *testing.T) {
		tests := []struct {
			name string
			b    *store.CertificateBinding
			want error
		}{
			{"same issuer and serial", newBinding(other.ID, first.Serial, "spki-new"), store.ErrConflict},
			{"same spki thumbprint", newBinding(other.ID, "0E", first.SPKIThumbprint), store.ErrConflict},
			{"same ID", func() *store.CertificateBinding { b := newBinding(other.ID, "0E", "spki-x"); b.ID = first.ID; return b }(), store.ErrConflict},
			{"unknown citizen", newBinding("cit-nobody", "0E", "spki-y"), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, "create", s.CreateCertificateBinding(ctx, tt.b), tt.want)
			})
		}
		got, err := s.CertificateBindingsOf(ctx, other.ID)
		must(t, "bindings of other", err)
		if got != nil {
			t.Errorf("after refused creations: got %v, want nothing written", got)
		}
	})

	t.Run("touch", func(t *testing.T) {
		at := base.Add(time.Hour)
		must(t, "touch", s.TouchCertificateBinding(ctx, first.ID, at))
		got, err := s.FindCertificateBinding(ctx, first.Issuer, first.Serial, "")
		must(t, "find", err)
		if !got.LastUsedAt.Equal(normTime(at)) || got.LastUsedAt.Location() != time.UTC {
			t.Errorf("LastUsedAt: got %v, want %v UTC", got.LastUsedAt, normTime(at))
		}
		first.LastUsedAt = at
		wantErr(t, "touch absent", s.TouchCertificateBinding(ctx, "cb-nobody", at), store.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, "delete another citizen's", s.DeleteCertificateBinding(ctx, other.ID, first.ID), store.ErrNotFound)
		must(t, "delete", s.DeleteCertificateBinding(ctx, c.ID, first.ID))
		wantErr(t, "delete again", s.DeleteCertificateBinding(ctx, c.ID, first.ID), store.ErrNotFound)
		got, err := s.CertificateBindingsOf(ctx, c.ID)
		must(t, "bindings of", err)
		check(t, "bindings after delete", normBindings(got), normBindings([]store.CertificateBinding{*second}))
		// The freed key can be bound again.
		must(t, "bind again", s.CreateCertificateBinding(ctx, newBinding(other.ID, first.Serial, first.SPKIThumbprint)))
	})

	t.Run("citizen deleted with bindings", func(t *testing.T) {
		// Bindings go with the citizen (ON DELETE CASCADE) is a schema
		// property; there is no citizen deletion in the contract yet.
		if _, err := s.CertificateBindingsOf(ctx, "cit-nobody"); err != nil {
			t.Errorf("bindings of an unknown citizen: got %v, want nil error", err)
		}
	})
}

// testCertificateBindingsConcurrent binds one certificate from many
// goroutines: exactly one binding wins.
func testCertificateBindingsConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	var citizens []*store.Citizen
	for i := range 4 {
		c := newCitizen(fmt.Sprintf("0010900001%02d", i))
		must(t, "create citizen", s.CreateCitizen(ctx, c, ""))
		citizens = append(citizens, c)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateCertificateBinding(ctx, newBinding(citizens[i%len(citizens)].ID, "7777", "spki-race"))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("concurrent bind: got %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("concurrent binds of one certificate: got %d winners, want 1", won)
	}
}
