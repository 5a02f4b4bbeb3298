package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func newEntry(citizenID, portal string, at time.Time) store.LedgerEntry {
	return store.LedgerEntry{
		ID:         newID("le"),
		Time:       at,
		CitizenID:  citizenID,
		Portal:     "oidc:" + portal,
		PortalName: "Cổng " + portal + ` <b>"x"</b>`,
		Protocol:   store.LedgerOIDC,
		Endpoint:   store.EndpointToken,
		Attributes: []string{"name", "birthdate"},
		Level:      2,
		SessionID:  "sid-1",
	}
}

func normEntries(l []store.LedgerEntry) []store.LedgerEntry {
	var out []store.LedgerEntry
	for _, e := range l {
		e.Time = normTime(e.Time)
		e.Attributes = normStrings(e.Attributes)
		out = append(out, e)
	}
	return out
}

func ids(l []store.LedgerEntry) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.ID)
	}
	return out
}

func testLedger(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const cit, other = "cit-ledger-1", "cit-ledger-2"

	got, err := s.ListLedger(ctx, cit, store.LedgerFilter{})
	must(t, "list empty", err)
	if got != nil {
		t.Errorf("empty ledger: got %v, want nil", got)
	}
	must(t, "append nothing", s.AppendLedger(ctx, nil))

	// Three entries in September, two in October (one sharing its time
	// with another, so the ID breaks the tie), one of another citizen.
	sep := time.Date(2026, 9, 10, 3, 0, 0, 0, time.UTC)
	oct := time.Date(2026, 10, 2, 7, 0, 0, 0, time.UTC)
	a := newEntry(cit, "tax", sep)
	b := newEntry(cit, "health", sep.Add(time.Hour))
	b.Attributes = nil
	b.SessionID = ""
	c := newEntry(cit, "tax", sep.Add(2*time.Hour))
	c.Protocol, c.Endpoint, c.Portal = store.LedgerSAML, store.EndpointSAMLSSO, "saml:https://sp.example.vn"
	d := newEntry(cit, "tax", oct.Add(123456789*time.Nanosecond))
	e := newEntry(cit, "tax", oct.Add(123456789*time.Nanosecond))
	e.ID = d.ID + "z" // sorts after d
	x := newEntry(other, "tax", oct)
	batch := []store.LedgerEntry{a, b, c, d, e, x}
	must(t, "append", s.AppendLedger(ctx, batch))

	all := normEntries([]store.LedgerEntry{e, d, c, b, a})
	got, err = s.ListLedger(ctx, cit, store.LedgerFilter{})
	must(t, "list", err)
	check(t, "newest first", normEntries(got), all)

	tests := []struct {
		name string
		f    store.LedgerFilter
		want []store.LedgerEntry
	}{
		{"portal", store.LedgerFilter{Portal: "oidc:tax"}, []store.LedgerEntry{e, d, a}},
		{"month", store.LedgerFilter{Since: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, []store.LedgerEntry{c, b, a}},
		{"portal and month", store.LedgerFilter{Portal: "oidc:tax", Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, []store.LedgerEntry{e, d}},
		{"limit", store.LedgerFilter{Limit: 2}, []store.LedgerEntry{e, d}},
		{"before a tie", store.LedgerFilter{BeforeTime: e.Time, BeforeID: e.ID, Limit: 2}, []store.LedgerEntry{d, c}},
		{"before the last", store.LedgerFilter{BeforeTime: a.Time, BeforeID: a.ID}, nil},
		{"unknown portal", store.LedgerFilter{Portal: "oidc:none"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListLedger(ctx, cit, tt.f)
			must(t, "list", err)
			check(t, "ids", ids(got), ids(tt.want))
		})
	}

	t.Run("paging walks every entry once", func(t *testing.T) {
		var seen []string
		f := store.LedgerFilter{Limit: 2}
		for range 10 {
			page, err := s.ListLedger(ctx, cit, f)
			must(t, "page", err)
			if len(page) == 0 {
				break
			}
			seen = append(seen, ids(page)...)
			last := page[len(page)-1]
			f.BeforeTime, f.BeforeID = last.Time, last.ID
		}
		check(t, "pages", seen, ids(all))
	})

	t.Run("portals of a citizen", func(t *testing.T) {
		got, err := s.LedgerPortalsOf(ctx, cit)
		must(t, "portals", err)
		check(t, "portals", got, []store.LedgerPortal{
			{Portal: "oidc:health", Name: b.PortalName, Count: 1},
			{Portal: "oidc:tax", Name: e.PortalName, Count: 3},
			{Portal: "saml:https://sp.example.vn", Name: c.PortalName, Count: 1},
		})
	})

	t.Run("counts", func(t *testing.T) {
		got, err := s.CountLedger(ctx, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Time{})
		must(t, "count", err)
		check(t, "counts since October", got, []store.LedgerPortal{{Portal: "oidc:tax", Name: e.PortalName, Count: 3}})
		got, err = s.CountLedger(ctx, sep, oct)
		must(t, "count", err)
		if len(got) != 3 {
			t.Errorf("portals in September: got %d, want 3", len(got))
		}
	})

	t.Run("duplicate id writes nothing", func(t *testing.T) {
		fresh := newEntry(cit, "dup", oct)
		err := s.AppendLedger(ctx, []store.LedgerEntry{fresh, a})
		wantErr(t, "append a duplicate", err, store.ErrConflict)
		got, err := s.ListLedger(ctx, cit, store.LedgerFilter{Portal: "oidc:dup"})
		must(t, "list", err)
		if len(got) != 0 {
			t.Errorf("entries of a failed batch: got %d, want 0", len(got))
		}
	})

	t.Run("purge", func(t *testing.T) {
		n, err := s.PurgeLedger(ctx, oct)
		must(t, "purge", err)
		if n != 3 {
			t.Errorf("purged: got %d, want 3", n)
		}
		n, err = s.PurgeLedger(ctx, oct)
		must(t, "purge again", err)
		if n != 0 {
			t.Errorf("purged again: got %d, want 0", n)
		}
		got, err := s.ListLedger(ctx, cit, store.LedgerFilter{})
		must(t, "list", err)
		check(t, "left", ids(got), []string{e.ID, d.ID})
	})
}

// testLedgerConcurrent appends from many goroutines at once (as several
// nodes' writers do): every entry is written once, none lost.
func testLedgerConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	const writers, batches, size = 8, 5, 7
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				var batch []store.LedgerEntry
				for j := range size {
					batch = append(batch, newEntry("cit-conc", fmt.Sprintf("p%d", (w+i+j)%3), base.Add(time.Duration(j)*time.Second)))
				}
				errs <- s.AppendLedger(ctx, batch)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "append", err)
	}
	got, err := s.ListLedger(ctx, "cit-conc", store.LedgerFilter{Limit: 1000})
	must(t, "list", err)
	if want := writers * batches * size; len(got) != want {
		t.Errorf("entries: got %d, want %d", len(got), want)
	}
	counts, err := s.CountLedger(ctx, base.Add(-time.Hour), time.Time{})
	must(t, "count", err)
	var total int64
	for _, c := range counts {
		total += c.Count
	}
	if total != writers*batches*size {
		t.Errorf("counted: got %d, want %d", total, writers*batches*size)
	}
}
