package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// signingKeysDouble is a test double of the one interface store.SigningKeys,
// and of nothing else: a mutex and a slice, with UpdateSigningKeys
// serialised as the contract requires. The SQL implementations are tested
// against the real databases by the store conformance suite; this package
// only needs the contract.
type signingKeysDouble struct {
	mu    sync.Mutex
	keys  []store.SigningKey
	lists int // ListSigningKeys calls, to observe caching
}

var _ store.SigningKeys = (*signingKeysDouble)(nil)

func (d *signingKeysDouble) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lists++
	return slices.Clone(d.keys), nil
}

func (d *signingKeysDouble) UpdateSigningKeys(ctx context.Context, fn func([]store.SigningKey) ([]store.SigningKey, error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	out, err := fn(slices.Clone(d.keys))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, k := range out {
		if k.ID == "" || seen[k.ID] {
			return fmt.Errorf("key id %q: %w", k.ID, store.ErrConflict)
		}
		seen[k.ID] = true
	}
	// Keep the oldest-first order of the contract.
	slices.SortStableFunc(out, func(a, b store.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	d.keys = out
	return nil
}

func (d *signingKeysDouble) listCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lists
}

// testClock is an injected clock that moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	testMaxLife  = time.Hour
	testCacheTTL = 10 * time.Second
)

func newTestManager(t testing.TB, st store.SigningKeys, clk *testClock) *Manager {
	t.Helper()
	return NewManager(st, newTestSealer(t, 1), Options{
		Now:              clk.Now,
		MaxTokenLifetime: testMaxLife,
		CacheTTL:         testCacheTTL,
	})
}

// byState returns the stored keys grouped by state.
func byState(t *testing.T, st *signingKeysDouble) map[string][]store.SigningKey {
	t.Helper()
	keys, _ := st.ListSigningKeys(context.Background())
	m := map[string][]store.SigningKey{}
	for _, k := range keys {
		m[k.State] = append(m[k.State], k)
	}
	return m
}

func publishedIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	pub, err := m.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pub {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newTestManager(t, st, clk)

	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := byState(t, st)
	if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) != 1 || len(s[store.KeyRetired]) != 0 {
		t.Fatalf("got %d active, %d next, %d retired, want 1 1 0", len(s[store.KeyActive]), len(s[store.KeyNext]), len(s[store.KeyRetired]))
	}
	a, n := s[store.KeyActive][0], s[store.KeyNext][0]
	if !a.ActivatedAt.Equal(clk.Now()) || !a.CreatedAt.Equal(clk.Now()) {
		t.Errorf("got active created %v activated %v, want both %v", a.CreatedAt, a.ActivatedAt, clk.Now())
	}
	if !n.ActivatedAt.IsZero() || !n.RetiredAt.IsZero() || !n.VerifyUntil.IsZero() {
		t.Errorf("got next key with lifecycle times set: %+v", n)
	}
	for _, k := range []store.SigningKey{a, n} {
		if k.Algorithm != RS256 || len(k.PublicKey) == 0 || len(k.PrivateKey) == 0 {
			t.Errorf("got key %s alg %q pub %d priv %d bytes, want RS256 and both keys", k.ID, k.Algorithm, len(k.PublicKey), len(k.PrivateKey))
		}
	}

	clk.Advance(time.Minute)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s = byState(t, st)
	if len(st.keys) != 2 || s[store.KeyActive][0].ID != a.ID || s[store.KeyNext][0].ID != n.ID {
		t.Fatalf("got %d keys after a second Ensure, want the same 2 (%s active, %s next)", len(st.keys), a.ID, n.ID)
	}
	if got := s[store.KeyActive][0].ActivatedAt; !got.Equal(a.ActivatedAt) {
		t.Fatalf("got ActivatedAt %v after a second Ensure, want %v untouched", got, a.ActivatedAt)
	}
}

func TestEnsureRepairs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		keep      string // the one state left in the store before Ensure
		promoted  bool   // whether the kept key becomes active
		wantCount int
	}{
		{"active only gets a next", store.KeyActive, false, 2},
		{"next only is promoted and gets a next", store.KeyNext, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newTestClock()
			st := &signingKeysDouble{}
			m := newTestManager(t, st, clk)
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			kept := byState(t, st)[tt.keep][0]
			st.keys = []store.SigningKey{kept}
			clk.Advance(time.Hour)
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			s := byState(t, st)
			if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) != 1 || len(st.keys) != tt.wantCount {
				t.Fatalf("got %d active, %d next, %d total, want 1 1 %d", len(s[store.KeyActive]), len(s[store.KeyNext]), len(st.keys), tt.wantCount)
			}
			if s[store.KeyActive][0].ID != kept.ID {
				t.Fatalf("got active key %s, want the kept key %s to be active", s[store.KeyActive][0].ID, kept.ID)
			}
			if tt.promoted && !s[store.KeyActive][0].ActivatedAt.Equal(clk.Now()) {
				t.Errorf("got ActivatedAt %v, want %v", s[store.KeyActive][0].ActivatedAt, clk.Now())
			}
		})
	}
}

func TestEnsureConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	const nodes = 3
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		m := newTestManager(t, st, clk) // one Manager per node
		wg.Go(func() { errs[i] = m.Ensure(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: got %v, want nil", i, err)
		}
	}
	s := byState(t, st)
	if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) != 1 || len(st.keys) != 2 {
		t.Fatalf("got %d active, %d next, %d total, want 1 1 2", len(s[store.KeyActive]), len(s[store.KeyNext]), len(st.keys))
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newTestManager(t, st, clk)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := byState(t, st)
	a, b := s[store.KeyActive][0].ID, s[store.KeyNext][0].ID

	// First rotation: b signs, a is retired but still published.
	clk.Advance(24 * time.Hour)
	t1 := clk.Now()
	got, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != b {
		t.Fatalf("got new active %s, want the pre-published next key %s", got, b)
	}
	s = byState(t, st)
	if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) != 1 || len(s[store.KeyRetired]) != 1 {
		t.Fatalf("got %d active, %d next, %d retired, want 1 1 1", len(s[store.KeyActive]), len(s[store.KeyNext]), len(s[store.KeyRetired]))
	}
	retired, act, c := s[store.KeyRetired][0], s[store.KeyActive][0], s[store.KeyNext][0]
	wantUntil := t1.Add(testMaxLife + testCacheTTL)
	if retired.ID != a || !retired.RetiredAt.Equal(t1) || !retired.VerifyUntil.Equal(wantUntil) {
		t.Errorf("got retired %s at %v until %v, want %s at %v until %v", retired.ID, retired.RetiredAt, retired.VerifyUntil, a, t1, wantUntil)
	}
	if act.ID != b || !act.ActivatedAt.Equal(t1) {
		t.Errorf("got active %s activated %v, want %s at %v", act.ID, act.ActivatedAt, b, t1)
	}
	if c.ID == a || c.ID == b || !c.CreatedAt.Equal(t1) {
		t.Errorf("got next %s created %v, want a new key created at %v", c.ID, c.CreatedAt, t1)
	}
	if got, want := publishedIDs(t, m), []string{b, c.ID, a}; !slices.Equal(got, want) {
		t.Errorf("got published %v, want %v (active, next, retired)", got, want)
	}
	sk, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk.ID != b {
		t.Errorf("got signing key %s, want %s right after Rotate (local cache invalidated)", sk.ID, b)
	}

	// Just before VerifyUntil the retired key is still published; at it, not.
	clk.Advance(testMaxLife + testCacheTTL - time.Second)
	if got := publishedIDs(t, m); !slices.Contains(got, a) {
		t.Errorf("got published %v one second before VerifyUntil, want %s still there", got, a)
	}
	clk.Advance(time.Second)
	if got := publishedIDs(t, m); slices.Contains(got, a) {
		t.Errorf("got published %v at VerifyUntil, want %s gone", got, a)
	}
	if keys, _ := m.List(ctx); len(keys) != 3 {
		t.Errorf("got %d stored keys, want 3: an expired key stays stored until the next Rotate", len(keys))
	}

	// Second rotation deletes a, retires b, promotes c.
	clk.Advance(time.Hour)
	got, err = m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != c.ID {
		t.Fatalf("got new active %s, want %s", got, c.ID)
	}
	s = byState(t, st)
	if len(st.keys) != 3 || len(s[store.KeyRetired]) != 1 || s[store.KeyRetired][0].ID != b {
		t.Fatalf("got %d keys, retired %v, want 3 keys with only %s retired", len(st.keys), s[store.KeyRetired], b)
	}
	for _, k := range st.keys {
		if k.ID == a {
			t.Fatalf("got expired key %s still stored after Rotate, want it deleted", a)
		}
	}
}

func TestRotateWithoutNextKey(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newTestManager(t, st, clk)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	old := byState(t, st)[store.KeyActive][0]
	st.keys = []store.SigningKey{old}
	clk.Advance(time.Hour)
	got, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := byState(t, st)
	if got == old.ID || len(s[store.KeyActive]) != 1 || s[store.KeyActive][0].ID != got {
		t.Fatalf("got new active %s, want a fresh key other than %s", got, old.ID)
	}
	if len(s[store.KeyNext]) != 1 || len(s[store.KeyRetired]) != 1 || s[store.KeyRetired][0].ID != old.ID {
		t.Fatalf("got %d next, %d retired, want 1 next and %s retired", len(s[store.KeyNext]), len(s[store.KeyRetired]), old.ID)
	}
}

func TestRetire(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*Manager, *signingKeysDouble, *testClock) {
		clk := newTestClock()
		st := &signingKeysDouble{}
		m := newTestManager(t, st, clk)
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		if _, err := m.Rotate(ctx); err != nil { // now: retired, active, next
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		return m, st, clk
	}
	tests := []struct {
		name    string
		pick    func(m *Manager, st *signingKeysDouble) string
		wantErr error
	}{
		{"active", func(_ *Manager, st *signingKeysDouble) string { return stateID(st, store.KeyActive) }, ErrActiveKey},
		{"only next", func(_ *Manager, st *signingKeysDouble) string { return stateID(st, store.KeyNext) }, ErrLastNextKey},
		{"unknown", func(*Manager, *signingKeysDouble) string { return "no-such-kid" }, store.ErrNotFound},
		{"retired", func(_ *Manager, st *signingKeysDouble) string { return stateID(st, store.KeyRetired) }, nil},
		{"one of two next keys", func(m *Manager, st *signingKeysDouble) string {
			extra, err := m.newKey(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
			if err != nil {
				panic(err)
			}
			st.keys = append(st.keys, extra)
			return extra.ID
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st, clk := setup(t)
			kid := tt.pick(m, st)
			before := slices.Clone(st.keys)
			err := m.Retire(ctx, kid)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if !slices.EqualFunc(before, st.keys, func(a, b store.SigningKey) bool { return a.ID == b.ID && a.State == b.State }) {
					t.Fatal("got the store changed by a refused Retire, want it untouched")
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			var k store.SigningKey
			for _, x := range st.keys {
				if x.ID == kid {
					k = x
				}
			}
			if k.State != store.KeyRetired || !k.VerifyUntil.Equal(clk.Now()) {
				t.Fatalf("got state %q until %v, want retired until now %v", k.State, k.VerifyUntil, clk.Now())
			}
			if slices.Contains(publishedIDs(t, m), kid) {
				t.Fatalf("got %s still published after Retire, want it gone", kid)
			}
			if _, err := m.Signing(ctx); err != nil {
				t.Fatalf("got %v, want the active key unaffected", err)
			}
		})
	}
}

func stateID(st *signingKeysDouble, state string) string {
	for _, k := range st.keys {
		if k.State == state {
			return k.ID
		}
	}
	return ""
}

func TestSigningVerifiesWithPublished(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newTestManager(t, st, clk)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	sk, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk.Algorithm != RS256 || sk.ID != stateID(st, store.KeyActive) {
		t.Fatalf("got %s %s, want RS256 and the active key", sk.Algorithm, sk.ID)
	}
	if _, ok := sk.Signer.(*rsa.PrivateKey); !ok {
		t.Fatalf("got signer %T, want *rsa.PrivateKey", sk.Signer)
	}
	if got := thumbprint(sk.Public.(*rsa.PublicKey)); got != sk.ID {
		t.Fatalf("got thumbprint %s, want the kid %s", got, sk.ID)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := sk.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := m.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pub, func(p PublicKey) bool { return p.ID == sk.ID })
	if i != 0 || pub[i].State != store.KeyActive || pub[i].Algorithm != RS256 {
		t.Fatalf("got published %+v, want the active key first", pub)
	}
	if err := rsa.VerifyPKCS1v15(pub[i].Key.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("got %v, want the signature to verify with the published key", err)
	}
}

func TestSigningErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, st *signingKeysDouble, clk *testClock)
		sealer  byte // master key of the Manager under test
		wantErr error
	}{
		{"no keys", func(*testing.T, *signingKeysDouble, *testClock) {}, 1, ErrNoActiveKey},
		{"wrong master key", ensure, 2, ErrUnseal},
		{"sealed key swapped between rows", func(t *testing.T, st *signingKeysDouble, clk *testClock) {
			ensure(t, st, clk)
			st.keys[0].PrivateKey, st.keys[1].PrivateKey = st.keys[1].PrivateKey, st.keys[0].PrivateKey
		}, 1, ErrUnseal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newTestClock()
			st := &signingKeysDouble{}
			tt.prepare(t, st, clk)
			m := NewManager(st, newTestSealer(t, tt.sealer), Options{Now: clk.Now})
			_, err := m.Signing(ctx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func ensure(t *testing.T, st *signingKeysDouble, clk *testClock) {
	t.Helper()
	if err := newTestManager(t, st, clk).Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	node := newTestManager(t, st, clk)
	cli := newTestManager(t, st, clk) // another process sharing the store
	if err := cli.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := node.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lists := st.listCalls()
	for range 5 {
		if _, err := node.Signing(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := node.Published(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.listCalls(); got != lists {
		t.Fatalf("got %d store reads within CacheTTL, want 0", got-lists)
	}

	rotated, err := cli.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(testCacheTTL - time.Millisecond)
	if sk, _ := node.Signing(ctx); sk.ID != first.ID {
		t.Fatalf("got %s within CacheTTL, want the cached %s", sk.ID, first.ID)
	}
	clk.Advance(time.Millisecond)
	sk, err := node.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk.ID != rotated {
		t.Fatalf("got %s after CacheTTL, want the rotated key %s", sk.ID, rotated)
	}

	// A clock that steps backwards does not pin a stale cache.
	if err := cli.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(-time.Minute)
	if sk2, _ := node.Signing(ctx); sk2.ID == sk.ID {
		t.Fatalf("got stale %s after the clock stepped back, want a reload", sk.ID)
	}
}

func TestCacheDisabled(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	ensure(t, st, clk)
	m := NewManager(st, newTestSealer(t, 1), Options{Now: clk.Now, CacheTTL: -1})
	before := st.listCalls()
	for range 3 {
		if _, err := m.Signing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.listCalls() - before; got != 3 {
		t.Fatalf("got %d store reads, want 3 with caching disabled", got)
	}
}

func TestRSABits(t *testing.T) {
	m := NewManager(&signingKeysDouble{}, newTestSealer(t, 1), Options{RSABits: 1024})
	if err := m.Ensure(context.Background()); err == nil {
		t.Fatal("got nil error for 1024-bit keys, want error")
	}
}

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 7638 §3.1.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	if got, want := thumbprint(pub), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	st := &signingKeysDouble{}
	m := NewManager(st, newTestSealer(b, 1), Options{})
	if err := m.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		sk, err := m.Signing(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sk.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// A node (or a CLI run) with another master key cannot sign, and writes
// nothing: a key sealed with it would be one the other nodes cannot open.
func TestWrongMasterKeyWritesNothing(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	if err := newTestManager(t, st, clk).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := st.ListSigningKeys(ctx)
	wrong := NewManager(st, newTestSealer(t, 2), Options{Now: clk.Now, MaxTokenLifetime: testMaxLife, CacheTTL: testCacheTTL})
	if _, err := wrong.Signing(ctx); err == nil {
		t.Error("signing with the wrong master key: got a key")
	}
	if _, err := wrong.Rotate(ctx); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("rotate with the wrong master key: got %v, want ErrWrongMasterKey", err)
	}
	after, _ := st.ListSigningKeys(ctx)
	if len(after) != len(before) || after[0].ID != before[0].ID || after[0].State != before[0].State {
		t.Errorf("keys changed: %d before, %d after", len(before), len(after))
	}
}
