package clientkeys

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/store"
)

// portal serves a client's key set at /jwks and counts the fetches.
type portal struct {
	srv     *httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	body    []byte
	headers map[string]string
	status  int
}

func newPortal(t *testing.T, body []byte) *portal {
	t.Helper()
	p := &portal{body: body, status: http.StatusOK, headers: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		for k, v := range p.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(p.status)
		w.Write(p.body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *portal) serve(body []byte, status int, headers map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body, p.status, p.headers = body, status, headers
}

// clock is a settable clock for the fetcher.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func keyIDs(keys []jose.JSONWebKey) string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.KeyID)
	}
	return strings.Join(ids, ",")
}

func TestFetcherCachesByMaxAge(t *testing.T) {
	p := newPortal(t, set(t, jwk(ecKey.Public(), "e1", "ES256")))
	p.serve(p.body, http.StatusOK, map[string]string{"Cache-Control": "public, max-age=300"})
	clk := &clock{t: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)}
	f := NewFetcher(nil, clk.now)
	c := &store.Client{ID: "portal", JWKSURI: p.srv.URL + "/jwks"}
	for i, step := range []struct {
		advance time.Duration
		hits    int32
	}{{0, 1}, {time.Minute, 1}, {239 * time.Second, 1}, {2 * time.Second, 2}, {time.Second, 2}} {
		clk.advance(step.advance)
		keys, err := f.Keys(t.Context(), c, "e1")
		if err != nil || keyIDs(keys) != "e1" {
			t.Fatalf("step %d: got %q, %v, want key e1", i, keyIDs(keys), err)
		}
		if got := p.hits.Load(); got != step.hits {
			t.Errorf("step %d (+%v): got %d fetches, want %d", i, step.advance, got, step.hits)
		}
	}
}

func TestCacheFor(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                    defaultCache,
		"max-age=600":         10 * time.Minute,
		"no-cache, max-age=0": minCache,
		"max-age=10":          minCache,
		"max-age=999999999":   maxCache,
		"Max-Age=120":         2 * time.Minute,
		"max-age=abc":         defaultCache,
		"no-store":            defaultCache,
	} {
		if got := cacheFor(cc); got != want {
			t.Errorf("cacheFor(%q): got %v, want %v", cc, got, want)
		}
	}
}

// A portal that rotates its keys: an unknown kid fetches the set again,
// but at most once every RefetchEvery, and a failed re-fetch keeps the
// keys fetched before.
func TestFetcherRefetchesOnUnknownKid(t *testing.T) {
	p := newPortal(t, set(t, jwk(ecKey.Public(), "old", "")))
	clk := &clock{t: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)}
	f := NewFetcher(nil, clk.now)
	c := &store.Client{ID: "portal", JWKSURI: p.srv.URL + "/jwks"}
	if keys, err := f.Keys(t.Context(), c, "old"); err != nil || keyIDs(keys) != "old" {
		t.Fatalf("first: got %q, %v, want old", keyIDs(keys), err)
	}
	p.serve(set(t, jwk(ecKey.Public(), "old", ""), jwk(edKey.Public(), "new", "")), http.StatusOK, nil)

	clk.advance(RefetchEvery / 2)
	if keys, err := f.Keys(t.Context(), c, "new"); err != nil || len(keys) != 0 {
		t.Errorf("unknown kid before RefetchEvery: got %q, %v, want no key and no error", keyIDs(keys), err)
	}
	if got := p.hits.Load(); got != 1 {
		t.Errorf("unknown kid before RefetchEvery: got %d fetches, want 1", got)
	}

	clk.advance(RefetchEvery / 2)
	if keys, err := f.Keys(t.Context(), c, "new"); err != nil || keyIDs(keys) != "new" {
		t.Errorf("unknown kid after RefetchEvery: got %q, %v, want new", keyIDs(keys), err)
	}
	if got := p.hits.Load(); got != 2 {
		t.Errorf("unknown kid after RefetchEvery: got %d fetches, want 2", got)
	}
	if keys, _ := f.Keys(t.Context(), c, ""); keyIDs(keys) != "old,new" {
		t.Errorf("every key: got %q, want old,new", keyIDs(keys))
	}

	// The portal breaks: what was fetched still verifies.
	p.serve([]byte("oops"), http.StatusInternalServerError, nil)
	clk.advance(RefetchEvery)
	if keys, err := f.Keys(t.Context(), c, "newer"); err != nil || len(keys) != 0 {
		t.Errorf("failed re-fetch: got %q, %v, want no key and no error", keyIDs(keys), err)
	}
	if keys, err := f.Keys(t.Context(), c, "old"); err != nil || keyIDs(keys) != "old" {
		t.Errorf("after a failed re-fetch: got %q, %v, want old", keyIDs(keys), err)
	}
	// Once the cache expires, a broken portal is an error.
	clk.advance(defaultCache)
	if _, err := f.Keys(t.Context(), c, "old"); err == nil {
		t.Error("expired cache, broken portal: got keys, want an error")
	}
}

func TestFetcherInlineKeys(t *testing.T) {
	f := NewFetcher(nil, nil)
	c := &store.Client{ID: "portal", JWKS: string(set(t, jwk(ecKey.Public(), "e1", ""), jwk(edKey.Public(), "o1", "")))}
	if keys, err := f.Keys(t.Context(), c, "o1"); err != nil || keyIDs(keys) != "o1" {
		t.Errorf("inline: got %q, %v, want o1", keyIDs(keys), err)
	}
	if _, err := f.Keys(t.Context(), &store.Client{ID: "bare"}, ""); err == nil {
		t.Error("no keys registered: got keys, want an error")
	}
}

func TestFetchRefuses(t *testing.T) {
	good := set(t, jwk(ecKey.Public(), "e1", ""))
	target := newPortal(t, good)
	redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL+"/jwks", http.StatusFound))
	t.Cleanup(redirect.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	big := newPortal(t, []byte(`{"keys":[],"pad":"`+strings.Repeat("x", MaxSetBytes)+`"}`))
	private := newPortal(t, set(t, jwk(ecKey, "e1", "")))
	missing := newPortal(t, nil)
	missing.serve(nil, http.StatusNotFound, nil)

	f := NewFetcher(&http.Client{Timeout: 100 * time.Millisecond}, nil)
	tests := []struct {
		name, uri, message string
		want               error
	}{
		{"redirect", redirect.URL + "/jwks", "HTTP 302", nil},
		{"timeout", slow.URL + "/jwks", "no answer within 100ms", ErrTimeout},
		{"oversize", big.srv.URL + "/jwks", "larger than", nil},
		{"private key served", private.srv.URL + "/jwks", "private key", ErrPrivateKey},
		{"not found", missing.srv.URL + "/jwks", "HTTP 404", nil},
		{"plain http elsewhere", "http://portal.example.gov.vn/jwks", "https", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := f.Fetch(t.Context(), tt.uri)
			if err == nil {
				t.Fatalf("got a key set, want an error with %q", tt.message)
			}
			if !strings.Contains(err.Error(), tt.message) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("got %q, want %q (wrapping %v)", err, tt.message, tt.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v, want the client's short timeout to end it", d)
			}
		})
	}
	if got := target.hits.Load(); got != 0 {
		t.Errorf("redirect target: got %d fetches, want 0 (redirects are not followed)", got)
	}
	// Fetch never uses the cache: a registration sees the URI as it is now.
	if _, err := f.Fetch(t.Context(), target.srv.URL+"/jwks"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(t.Context(), target.srv.URL+"/jwks"); err != nil {
		t.Fatal(err)
	}
	if got := target.hits.Load(); got != 2 {
		t.Errorf("Fetch twice: got %d fetches, want 2", got)
	}
}
