package oidc

import (
	"strconv"
	"testing"
	"time"
)

func TestSecretsUnthrottled(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	m := newSecretsUnthrottled(500 * time.Millisecond)
	gen, ok := m.check("portal|10.0.0.1", t0)
	if ok {
		t.Fatal("an empty memory knows a key")
	}
	m.remember("portal|10.0.0.1", t0, gen)
	if _, ok := m.check("portal|10.0.0.1", t0.Add(499*time.Millisecond)); !ok {
		t.Error("forgotten within its time")
	}
	if _, ok := m.check("portal|10.0.0.2", t0); ok {
		t.Error("another address is known too")
	}
	if _, ok := m.check("portal|10.0.0.1", t0.Add(500*time.Millisecond)); ok {
		t.Error("still known when its time is up")
	}

	// A wrong secret counted while a right one was asking Redis: what
	// Redis answered before the count is not remembered.
	t1 := t0.Add(time.Second)
	gen, _ = m.check("portal|10.0.0.1", t1)
	m.forget("other|10.0.0.9")
	m.remember("portal|10.0.0.1", t1, gen)
	if _, ok := m.check("portal|10.0.0.1", t1); ok {
		t.Error("remembered an answer older than a counted failure")
	}
	gen, _ = m.check("portal|10.0.0.1", t1)
	m.remember("portal|10.0.0.1", t1, gen)
	if _, ok := m.check("portal|10.0.0.1", t1); !ok {
		t.Fatal("not remembered after the failure's count")
	}
	m.forget("portal|10.0.0.1")
	if _, ok := m.check("portal|10.0.0.1", t1); ok {
		t.Error("a counted failure did not forget its key")
	}

	off := newSecretsUnthrottled(0)
	gen, _ = off.check("portal|10.0.0.1", t0)
	off.remember("portal|10.0.0.1", t0, gen)
	if _, ok := off.check("portal|10.0.0.1", t0); ok {
		t.Error("remembered with no time to remember for")
	}

	full := newSecretsUnthrottled(time.Second)
	for i := range maxCachedClients + 1 {
		gen, _ := full.check("k", t0)
		full.remember("portal|"+strconv.Itoa(i), t0, gen)
	}
	if n := len(full.until); n > maxCachedClients {
		t.Errorf("memory holds %d keys, want at most %d", n, maxCachedClients)
	}
}
