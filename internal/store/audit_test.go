package store

import (
	"errors"
	"testing"
	"time"
)

func chain(n int) []AuditEvent {
	t0 := time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC)
	var events []AuditEvent
	prev := ""
	for i := range n {
		e := AuditEvent{Seq: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Second), Actor: "system",
			Action: "test", Outcome: "success", Details: map[string]string{"i": string(rune('a' + i))}}
		e.PrevHash = prev
		e.Hash = AuditHash(prev, &e)
		prev = e.Hash
		events = append(events, e)
	}
	return events
}

func TestAuditHashIsUnambiguous(t *testing.T) {
	t0 := time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC)
	base := AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c"}
	tests := []struct {
		name string
		e    AuditEvent
		prev string
	}{
		{"field boundary moved", AuditEvent{Seq: 1, Time: t0, Actor: "a", Action: "bc"}, ""},
		{"prev hash", base, "00"},
		{"seq", AuditEvent{Seq: 2, Time: t0, Actor: "ab", Action: "c"}, ""},
		{"time", AuditEvent{Seq: 1, Time: t0.Add(time.Microsecond), Actor: "ab", Action: "c"}, ""},
		{"target", AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c", Target: "x"}, ""},
		{"outcome", AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c", Outcome: "x"}, ""},
		{"client ip", AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c", ClientIP: "x"}, ""},
		{"details", AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c", Details: map[string]string{"k": "v"}}, ""},
		{"details key/value boundary", AuditEvent{Seq: 1, Time: t0, Actor: "ab", Action: "c", Details: map[string]string{"kv": ""}}, ""},
	}
	want := AuditHash("", &base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AuditHash(tt.prev, &tt.e); got == want {
				t.Errorf("hash: got %s for a different event, want a different hash", got)
			}
		})
	}
	kv := AuditHash("", &AuditEvent{Details: map[string]string{"k": "v"}})
	kv2 := AuditHash("", &AuditEvent{Details: map[string]string{"kv": ""}})
	if kv == kv2 {
		t.Errorf("details {k:v} and {kv:\"\"}: got the same hash, want different")
	}
}

func TestAuditHashIsCanonical(t *testing.T) {
	t0 := time.Date(2025, 9, 2, 9, 0, 0, 123456789, time.UTC)
	a := AuditEvent{Seq: 7, Time: t0, Actor: "x", Details: map[string]string{"a": "1", "b": "2", "c": "3"}}
	b := a
	b.Time = t0.In(time.FixedZone("ICT", 7*3600)).Round(time.Microsecond) // same instant at store precision
	b.Details = map[string]string{"c": "3", "b": "2", "a": "1"}
	b.PrevHash, b.Hash = "ignored", "ignored"
	if AuditHash("p", &a) != AuditHash("p", &b) {
		t.Errorf("hash: got different hashes for one event (zone, rounding, map order or hash fields), want equal")
	}
	empty, nilMap := AuditEvent{Details: map[string]string{}}, AuditEvent{}
	if AuditHash("", &empty) != AuditHash("", &nilMap) {
		t.Errorf("hash: got different hashes for empty and nil details, want equal")
	}
}

func TestVerifyAuditChain(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(events []AuditEvent) []AuditEvent
		wantSeq int64 // 0: valid
	}{
		{"valid", func(e []AuditEvent) []AuditEvent { return e }, 0},
		{"empty", func(e []AuditEvent) []AuditEvent { return nil }, 0},
		{"starts mid-log", func(e []AuditEvent) []AuditEvent { return e[2:] }, 0},
		{"field changed", func(e []AuditEvent) []AuditEvent { e[2].Outcome = "failure"; return e }, 3},
		{"detail changed", func(e []AuditEvent) []AuditEvent { e[1].Details["i"] = "z"; return e }, 2},
		{"event removed", func(e []AuditEvent) []AuditEvent { return append(e[:2:2], e[3:]...) }, 4},
		{"events swapped", func(e []AuditEvent) []AuditEvent { e[1], e[2] = e[2], e[1]; return e }, 3},
		{"rehashed after change", func(e []AuditEvent) []AuditEvent {
			e[1].Actor = "attacker"
			e[1].Hash = AuditHash(e[1].PrevHash, &e[1])
			return e
		}, 3},
		{"first with prev hash", func(e []AuditEvent) []AuditEvent {
			e[0].PrevHash = "00"
			e[0].Hash = AuditHash(e[0].PrevHash, &e[0])
			return e
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyAuditChain(tt.tamper(chain(5)))
			if tt.wantSeq == 0 {
				if err != nil {
					t.Errorf("verify: got %v, want nil", err)
				}
				return
			}
			var ce *AuditChainError
			if !errors.As(err, &ce) {
				t.Fatalf("verify: got %v, want an *AuditChainError", err)
			}
			if ce.Seq != tt.wantSeq {
				t.Errorf("broken seq: got %d, want %d (%v)", ce.Seq, tt.wantSeq, err)
			}
		})
	}
}
