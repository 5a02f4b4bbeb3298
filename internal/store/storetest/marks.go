package storetest

import (
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

func testMarks(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := newStore(t)
	must(t, "put", s.PutMark(ctx, store.Mark{Kind: "rj", ID: "a", Until: base.Add(time.Hour)}))
	must(t, "put", s.PutMark(ctx, store.Mark{Kind: "ended", ID: "a", Until: base.Add(2 * time.Hour), Data: []byte(`{"x":1}`)}))
	must(t, "put", s.PutMark(ctx, store.Mark{Kind: "rj", ID: "b", Until: base.Add(time.Minute)}))
	must(t, "put again", s.PutMark(ctx, store.Mark{Kind: "rj", ID: "a", Until: base.Add(3 * time.Hour)}))
	got, err := s.ListMarks(ctx, base.Add(30*time.Minute))
	must(t, "list", err)
	if len(got) != 2 || got[0].Kind != "ended" || got[1].ID != "a" || got[1].Until.Sub(base.Add(3*time.Hour)).Abs() > time.Millisecond {
		t.Fatalf("marks in force: got %+v, want ended/a and rj/a until +3h", got)
	}
	if string(got[0].Data) != `{"x":1}` || len(got[1].Data) != 0 {
		t.Errorf("mark data: got %q and %q", got[0].Data, got[1].Data)
	}
	n, err := s.PurgeMarks(ctx, base.Add(time.Hour))
	must(t, "purge", err)
	if n != 1 {
		t.Errorf("purge: got %d, want the one expired mark", n)
	}
}
