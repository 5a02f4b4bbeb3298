package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/store"
)

var allAlgorithms = []string{RS256, PS256, ES256, EdDSA}

func newAlgManager(t testing.TB, st store.SigningKeys, clk *testClock, algs ...string) *Manager {
	t.Helper()
	return NewManager(st, newTestSealer(t, 1), Options{
		Now:              clk.Now,
		MaxTokenLifetime: testMaxLife,
		CacheTTL:         testCacheTTL,
		Algorithms:       algs,
	})
}

// byAlgState returns the stored keys by algorithm, then state.
func byAlgState(t *testing.T, st *signingKeysDouble) map[string]map[string][]store.SigningKey {
	t.Helper()
	keys, _ := st.ListSigningKeys(context.Background())
	m := map[string]map[string][]store.SigningKey{}
	for _, k := range keys {
		if m[k.Algorithm] == nil {
			m[k.Algorithm] = map[string][]store.SigningKey{}
		}
		m[k.Algorithm][k.State] = append(m[k.Algorithm][k.State], k)
	}
	return m
}

func TestOptionsAlgorithms(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		want        []string
		wantDefault string
		wantErr     bool
	}{
		{"default", Options{}, []string{RS256}, RS256, false},
		{"default algorithm added", Options{DefaultAlgorithm: ES256}, []string{RS256, ES256}, ES256, false},
		{"RS256 always kept, canonical order, once", Options{Algorithms: []string{EdDSA, PS256, EdDSA}}, []string{RS256, PS256, EdDSA}, RS256, false},
		{"all four", Options{Algorithms: allAlgorithms, DefaultAlgorithm: EdDSA}, allAlgorithms, EdDSA, false},
		{"empty names ignored", Options{Algorithms: []string{"", ES256}}, []string{RS256, ES256}, RS256, false},
		{"unknown algorithm", Options{Algorithms: []string{"HS256"}}, []string{RS256}, RS256, true},
		{"unknown default", Options{DefaultAlgorithm: "ES384"}, []string{RS256}, RS256, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(&signingKeysDouble{}, newTestSealer(t, 1), tt.opts)
			if got := m.Algorithms(); !slices.Equal(got, tt.want) {
				t.Errorf("got algorithms %v, want %v", got, tt.want)
			}
			if got := m.DefaultAlgorithm(); got != tt.wantDefault {
				t.Errorf("got default %s, want %s", got, tt.wantDefault)
			}
			err := m.Ensure(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Ensure: got %v, want error %v", err, tt.wantErr)
			}
			if _, err := m.SigningFor(context.Background(), RS256); (err != nil) != tt.wantErr {
				t.Fatalf("SigningFor: got %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckAlgorithm(t *testing.T) {
	for _, alg := range allAlgorithms {
		if err := CheckAlgorithm(alg); err != nil {
			t.Errorf("%s: got %v, want nil", alg, err)
		}
	}
	for _, alg := range []string{"", "rs256", "HS256", "ES384", "none", "Ed25519"} {
		if err := CheckAlgorithm(alg); err == nil {
			t.Errorf("%q: got nil, want error", alg)
		}
	}
}

// TestLifecyclePerAlgorithm runs Ensure, Rotate, retention and a second
// Rotate with all four algorithms: each has its own active and next key,
// and each rotates by the same rules as a lone RS256 lifecycle.
func TestLifecyclePerAlgorithm(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, allAlgorithms...)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.keys) != 8 {
		t.Fatalf("got %d keys after Ensure twice, want 8 (an active and a next key per algorithm)", len(st.keys))
	}
	s := byAlgState(t, st)
	first := map[string][2]string{} // alg → active, next
	for _, alg := range allAlgorithms {
		if len(s[alg][store.KeyActive]) != 1 || len(s[alg][store.KeyNext]) != 1 {
			t.Fatalf("%s: got %d active, %d next, want 1 1", alg, len(s[alg][store.KeyActive]), len(s[alg][store.KeyNext]))
		}
		first[alg] = [2]string{s[alg][store.KeyActive][0].ID, s[alg][store.KeyNext][0].ID}
	}

	clk.Advance(24 * time.Hour)
	t1 := clk.Now()
	got, err := m.RotateFor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s = byAlgState(t, st)
	var wantPublished []string
	for _, state := range []string{store.KeyActive, store.KeyNext, store.KeyRetired} {
		for _, alg := range allAlgorithms {
			wantPublished = append(wantPublished, s[alg][state][0].ID)
		}
	}
	for _, alg := range allAlgorithms {
		act, next, ret := s[alg][store.KeyActive], s[alg][store.KeyNext], s[alg][store.KeyRetired]
		if len(act) != 1 || len(next) != 1 || len(ret) != 1 {
			t.Fatalf("%s: got %d active, %d next, %d retired, want 1 1 1", alg, len(act), len(next), len(ret))
		}
		if got[alg] != first[alg][1] || act[0].ID != first[alg][1] || !act[0].ActivatedAt.Equal(t1) {
			t.Errorf("%s: got new active %s (returned %s), want the pre-published next key %s", alg, act[0].ID, got[alg], first[alg][1])
		}
		if ret[0].ID != first[alg][0] || !ret[0].VerifyUntil.Equal(t1.Add(testMaxLife+testCacheTTL)) {
			t.Errorf("%s: got retired %s until %v, want %s until %v", alg, ret[0].ID, ret[0].VerifyUntil, first[alg][0], t1.Add(testMaxLife+testCacheTTL))
		}
		if next[0].ID == first[alg][0] || next[0].ID == first[alg][1] || next[0].Algorithm != alg {
			t.Errorf("%s: got next %s, want a new %s key", alg, next[0].ID, alg)
		}
		sk, err := m.SigningFor(ctx, alg)
		if err != nil || sk.ID != act[0].ID {
			t.Errorf("%s: got signing key %v, %v, want %s right after Rotate", alg, sk, err, act[0].ID)
		}
	}
	if got := publishedIDs(t, m); !slices.Equal(got, wantPublished) {
		t.Errorf("got published %v, want %v (by state, then algorithm)", got, wantPublished)
	}

	// Retention: at VerifyUntil every retired key leaves the published set;
	// the next Rotate deletes them.
	clk.Advance(testMaxLife + testCacheTTL)
	if got := publishedIDs(t, m); len(got) != 8 {
		t.Errorf("got %d published keys at VerifyUntil, want 8 (retired ones gone)", len(got))
	}
	clk.Advance(time.Hour)
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	s = byAlgState(t, st)
	for _, alg := range allAlgorithms {
		ret := s[alg][store.KeyRetired]
		if len(ret) != 1 || ret[0].ID != first[alg][1] {
			t.Errorf("%s: got retired %v, want only %s (the expired %s deleted)", alg, ret, first[alg][1], first[alg][0])
		}
	}
	if len(st.keys) != 12 {
		t.Errorf("got %d keys after the second rotation, want 12", len(st.keys))
	}
}

func TestRotateFor(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, ES256, EdDSA)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	before := byAlgState(t, st)
	clk.Advance(time.Hour)
	got, err := m.RotateFor(ctx, ES256, ES256)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[ES256] != before[ES256][store.KeyNext][0].ID {
		t.Fatalf("got %v, want only ES256 rotated to %s", got, before[ES256][store.KeyNext][0].ID)
	}
	after := byAlgState(t, st)
	for _, alg := range []string{RS256, EdDSA} {
		if !slices.EqualFunc(before[alg][store.KeyActive], after[alg][store.KeyActive], sameKey) ||
			!slices.EqualFunc(before[alg][store.KeyNext], after[alg][store.KeyNext], sameKey) || len(after[alg][store.KeyRetired]) != 0 {
			t.Errorf("%s: got %v, want it untouched by rotating ES256", alg, after[alg])
		}
	}
	if len(after[ES256][store.KeyRetired]) != 1 {
		t.Errorf("ES256: got %v, want one retired key", after[ES256])
	}
	for _, alg := range []string{PS256, "HS256"} {
		if _, err := m.RotateFor(ctx, alg); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("RotateFor(%s): got %v, want ErrAlgorithm", alg, err)
		}
	}
}

func sameKey(a, b store.SigningKey) bool {
	return a.ID == b.ID && a.State == b.State && a.ActivatedAt.Equal(b.ActivatedAt)
}

func TestRetirePerAlgorithm(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, allAlgorithms...)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	for _, alg := range allAlgorithms {
		s := byAlgState(t, st)[alg]
		// Other algorithms' next keys do not make this one's spare.
		if err := m.Retire(ctx, s[store.KeyNext][0].ID); !errors.Is(err, ErrLastNextKey) {
			t.Errorf("%s: retire the only next key: got %v, want ErrLastNextKey", alg, err)
		}
		if err := m.Retire(ctx, s[store.KeyActive][0].ID); !errors.Is(err, ErrActiveKey) {
			t.Errorf("%s: retire the active key: got %v, want ErrActiveKey", alg, err)
		}
		extra, err := m.newKeyFor(alg, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		st.keys = append(st.keys, extra)
		for _, kid := range []string{extra.ID, s[store.KeyRetired][0].ID} {
			if err := m.Retire(ctx, kid); err != nil {
				t.Fatalf("%s: retire %s: got %v, want nil", alg, kid, err)
			}
			if slices.Contains(publishedIDs(t, m), kid) {
				t.Errorf("%s: got %s still published after Retire", alg, kid)
			}
		}
		if _, err := m.SigningFor(ctx, alg); err != nil {
			t.Errorf("%s: got %v, want the active key unaffected", alg, err)
		}
	}
}

// TestSigningForVerifiesWithGoJose signs a JWS with each algorithm's
// active key and verifies it, with go-jose, against the key taken from a
// JWKS built from Published: what a relying party does.
func TestSigningForVerifiesWithGoJose(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, allAlgorithms...)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := m.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	for _, p := range pub {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.Key, KeyID: p.ID, Algorithm: p.Algorithm, Use: "sig"})
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &jwks); err != nil {
		t.Fatal(err)
	}
	wantType := map[string]any{RS256: &rsa.PrivateKey{}, PS256: &rsa.PrivateKey{}, ES256: &ecdsa.PrivateKey{}, EdDSA: ed25519.PrivateKey{}}
	kids := map[string]bool{}
	for _, alg := range allAlgorithms {
		t.Run(alg, func(t *testing.T) {
			sk, err := m.SigningFor(ctx, alg)
			if err != nil {
				t.Fatal(err)
			}
			if sk.Algorithm != alg || sk.ID != byAlgState(t, st)[alg][store.KeyActive][0].ID {
				t.Fatalf("got %s %s, want %s and its active key", sk.Algorithm, sk.ID, alg)
			}
			if got, want := typeName(sk.Signer), typeName(wantType[alg]); got != want {
				t.Fatalf("got signer %s, want %s", got, want)
			}
			if kids[sk.ID] {
				t.Fatalf("got kid %s for two algorithms, want a key per algorithm", sk.ID)
			}
			kids[sk.ID] = true
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: sk.Signer, KeyID: sk.ID}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := signer.Sign([]byte(`{"sub":"citizen"}`))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			h := parsed.Signatures[0].Header
			keys := jwks.Key(h.KeyID)
			if h.KeyID != sk.ID || len(keys) != 1 || keys[0].Algorithm != alg {
				t.Fatalf("got kid %s with %d published keys, want %s published once for %s", h.KeyID, len(keys), sk.ID, alg)
			}
			payload, err := parsed.Verify(keys[0])
			if err != nil || string(payload) != `{"sub":"citizen"}` {
				t.Fatalf("got %q, %v, want the payload verified with the published key", payload, err)
			}
			tp, err := keys[0].Thumbprint(crypto.SHA256)
			if err != nil || base64.RawURLEncoding.EncodeToString(tp) != sk.ID {
				t.Fatalf("got go-jose thumbprint %x (%v), want the kid %s", tp, err, sk.ID)
			}
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestSigningForErrors(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, ES256)
	if _, err := m.SigningFor(ctx, ES256); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("before Ensure: got %v, want ErrNoActiveKey", err)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{EdDSA, PS256, "HS256", ""} {
		if _, err := m.SigningFor(ctx, alg); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("%q: got %v, want ErrAlgorithm", alg, err)
		}
	}
	// One algorithm's broken key does not stop the others from signing.
	st.mu.Lock()
	for i := range st.keys {
		if st.keys[i].Algorithm == ES256 && st.keys[i].State == store.KeyActive {
			st.keys[i].PrivateKey[len(st.keys[i].PrivateKey)-1] ^= 1
		}
	}
	st.mu.Unlock()
	m2 := newAlgManager(t, st, clk, ES256)
	if _, err := m2.SigningFor(ctx, ES256); !errors.Is(err, ErrUnseal) {
		t.Errorf("ES256 with a damaged key: got %v, want ErrUnseal", err)
	}
	if _, err := m2.Signing(ctx); err != nil {
		t.Errorf("RS256 beside a damaged ES256 key: got %v, want nil", err)
	}
}

// TestOpenChecksAlgorithm: a row whose algorithm does not fit its key
// type, or whose kid is not its key's thumbprint, does not open.
func TestOpenChecksAlgorithm(t *testing.T) {
	clk := newTestClock()
	m := newAlgManager(t, &signingKeysDouble{}, clk, allAlgorithms...)
	rows := map[string]store.SigningKey{}
	for _, alg := range allAlgorithms {
		k, err := m.newKeyFor(alg, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		rows[alg] = k
		if sk, err := m.open(k); err != nil || sk.Algorithm != alg {
			t.Fatalf("%s: got %v, %v, want it to open", alg, sk, err)
		}
	}
	for _, tt := range []struct{ key, label string }{
		{RS256, ES256}, {ES256, EdDSA}, {EdDSA, RS256}, {ES256, PS256}, {RS256, "HS256"},
	} {
		r := rows[tt.key]
		r.Algorithm = tt.label
		if _, err := m.open(r); err == nil {
			t.Errorf("%s key labelled %s: got it opened, want an error", tt.key, tt.label)
		}
	}
	// A row carrying another key's public half under its own kid.
	r := rows[ES256]
	r.PublicKey = rows[EdDSA].PublicKey
	if _, err := m.open(r); err == nil {
		t.Error("ES256 row with an Ed25519 public key: got it opened, want an error")
	}
}

// TestLegacyStoredKeys: RS256 keys written by the single-algorithm Manager
// (testdata/legacy_rs256.json, sealed with newTestSealer(t, 1)) open,
// sign and keep their kids when a Manager with more algorithms takes over.
func TestLegacyStoredKeys(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile("testdata/legacy_rs256.json")
	if err != nil {
		t.Fatal(err)
	}
	var legacy []store.SigningKey
	if err := json.Unmarshal(b, &legacy); err != nil {
		t.Fatal(err)
	}
	st := &signingKeysDouble{keys: slices.Clone(legacy)}
	clk := newTestClock()
	clk.Advance(48 * time.Hour)
	m := newAlgManager(t, st, clk, ES256)
	sk, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk.ID != legacy[0].ID || legacy[0].State != store.KeyActive {
		t.Fatalf("got signing key %s, want the stored active key %s", sk.ID, legacy[0].ID)
	}
	for _, k := range legacy {
		pk, err := m.open(k)
		if err != nil {
			t.Fatalf("open %s: %v", k.ID, err)
		}
		if kid, _ := keyID(pk.Public); kid != k.ID {
			t.Fatalf("got kid %s, want the stored %s", kid, k.ID)
		}
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := byAlgState(t, st)
	if len(s[ES256][store.KeyActive]) != 1 || len(s[ES256][store.KeyNext]) != 1 {
		t.Fatalf("got ES256 %v, want an active and a next key added", s[ES256])
	}
	for _, k := range legacy {
		i := slices.IndexFunc(st.keys, func(x store.SigningKey) bool { return x.ID == k.ID })
		if i < 0 || !slices.Equal(st.keys[i].PrivateKey, k.PrivateKey) || !slices.Equal(st.keys[i].PublicKey, k.PublicKey) || st.keys[i].State != k.State {
			t.Fatalf("got stored key %s changed by Ensure, want it as it was", k.ID)
		}
	}
	kid, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kid != legacy[1].ID {
		t.Fatalf("got new active RS256 key %s, want the stored next key %s", kid, legacy[1].ID)
	}
}

// TestDroppedAlgorithm: when an algorithm leaves the configuration its
// keys stay published, Ensure leaves them alone, and the next full
// rotation retires them: the active key for as long as any retired key,
// the next key (which never signed) at once.
func TestDroppedAlgorithm(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	if err := newAlgManager(t, st, clk, EdDSA).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	ed := byAlgState(t, st)[EdDSA]
	m := newAlgManager(t, st, clk) // RS256 only now
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if got := byAlgState(t, st)[EdDSA]; !slices.EqualFunc(got[store.KeyActive], ed[store.KeyActive], sameKey) || !slices.EqualFunc(got[store.KeyNext], ed[store.KeyNext], sameKey) {
		t.Fatalf("got EdDSA %v after Ensure, want it untouched", got)
	}
	if pub, _ := m.PublishedFor(ctx, EdDSA); len(pub) != 2 {
		t.Errorf("got %d EdDSA keys published, want 2 until a rotation", len(pub))
	}
	if _, err := m.SigningFor(ctx, EdDSA); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("got %v, want ErrAlgorithm for a dropped algorithm", err)
	}
	clk.Advance(time.Hour)
	now := clk.Now()
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	got := byAlgState(t, st)[EdDSA]
	if len(got[store.KeyRetired]) != 2 || len(got) != 1 {
		t.Fatalf("got EdDSA %v after Rotate, want both keys retired", got)
	}
	for _, k := range got[store.KeyRetired] {
		want := now
		if k.ID == ed[store.KeyActive][0].ID {
			want = now.Add(testMaxLife + testCacheTTL)
		}
		if !k.VerifyUntil.Equal(want) {
			t.Errorf("retired %s: got VerifyUntil %v, want %v", k.ID, k.VerifyUntil, want)
		}
	}
	if pub, _ := m.PublishedFor(ctx, EdDSA); len(pub) != 1 || pub[0].ID != ed[store.KeyActive][0].ID {
		t.Errorf("got EdDSA published %v, want only the formerly active key", pub)
	}
}

func TestPublishedForAndKeySetTag(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	st := &signingKeysDouble{}
	m := newAlgManager(t, st, clk, ES256)
	other := newAlgManager(t, st, clk, ES256) // another node
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err := m.PublishedFor(ctx, RS256)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Algorithm != RS256 || rs[1].Algorithm != RS256 || rs[0].State != store.KeyActive {
		t.Fatalf("got %v, want the active and next RS256 keys", rs)
	}
	if none, _ := m.PublishedFor(ctx, ""); len(none) != 0 {
		t.Errorf("got %v for no algorithm, want none", none)
	}
	all, _ := m.Published(ctx)
	same, _ := other.Published(ctx)
	tag := KeySetTag(all)
	if len(tag) != 24 || KeySetTag(same) != tag {
		t.Fatalf("got tags %q and %q on two nodes, want the same 24 characters", tag, KeySetTag(same))
	}
	if KeySetTag(rs) == tag || KeySetTag(nil) == tag {
		t.Error("got the same tag for different sets, want different tags")
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	if KeySetTag(reversed) == tag {
		t.Error("got the same tag in another order, want different (the JWKS bytes differ)")
	}
	// Shuffled store order: same published order, same tag.
	st.mu.Lock()
	slices.Reverse(st.keys)
	st.mu.Unlock()
	third := newAlgManager(t, st, clk, ES256)
	if got, _ := third.Published(ctx); KeySetTag(got) != tag {
		t.Error("got another tag when the store lists the keys in another order, want the same")
	}
	clk.Advance(time.Hour)
	if _, err := m.RotateFor(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Published(ctx); KeySetTag(got) == tag {
		t.Error("got the same tag after a rotation, want a new one")
	}
}

func TestThumbprintsMatchGoJose(t *testing.T) {
	// RFC 8037 §A.3.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, want := okpThumbprint(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Ed25519 (RFC 8037 A.3): got %s, want %s", got, want)
	}
	// The P-256 key of RFC 7515 §A.3; its thumbprint as go-jose computes it.
	pt := []byte{4}
	for _, c := range []string{"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"} {
		b, _ := base64.RawURLEncoding.DecodeString(c)
		pt = append(pt, b...)
	}
	ec, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]crypto.PublicKey{"P-256": ec, "Ed25519": ed25519.PublicKey(x)} {
		got, err := keyID(pub)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.RawURLEncoding.EncodeToString(tp); got != want {
			t.Errorf("%s: got %s, want go-jose's %s", name, got, want)
		}
	}
	// Leading zero bytes of a coordinate are kept (fixed 32 bytes).
	for range 200 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := keyID(k.Public())
		tp, _ := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
		if want := base64.RawURLEncoding.EncodeToString(tp); got != want {
			t.Fatalf("random P-256 key: got %s, want go-jose's %s", got, want)
		}
	}
}

// BenchmarkSignJWS signs a small JWS (an ID-token-sized payload) with each
// algorithm's active key, as a token endpoint does: the bound the perf
// tool compares the token scenarios against. Numbers only.
func BenchmarkSignJWS(b *testing.B) {
	ctx := context.Background()
	st := &signingKeysDouble{}
	m := NewManager(st, newTestSealer(b, 1), Options{Algorithms: allAlgorithms})
	if err := m.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"iss":"https://id.example.gov.vn","sub":"2f1c6f0e8c9a4d1b","aud":"portal","exp":1767225600,"iat":1767222000,"auth_time":1767221990,"nonce":"n-0S6_WzA2Mj","acr":"urn:citizenid:loa:2","amr":["pwd","otp","mfa"],"sid":"9b2d6c1e"}`)
	for _, alg := range allAlgorithms {
		b.Run(alg, func(b *testing.B) {
			sk, err := m.SigningFor(ctx, alg)
			if err != nil {
				b.Fatal(err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: sk.Signer, KeyID: sk.ID}}, (&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				obj, err := signer.Sign(payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := obj.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
