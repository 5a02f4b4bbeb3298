package oidc

import (
	"context"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// clientCache keeps clients in memory: the token endpoint would otherwise
// read its client from the database on every request. Every node checks
// the clients' fingerprint (store.ClientsVersion, one small query) at
// most every cc.every (tokens.client_cache_refresh), and drops everything when it changed, so
// a client disabled in the console or the CLI stops working on every
// node within that time.
type clientCache struct {
	st    store.Store
	now   func() time.Time
	every time.Duration // how often the fingerprint is checked

	mu      sync.Mutex
	version string
	checked time.Time
	byID    map[string]*store.Client
}

// maxCachedClients bounds the cache; past it, the cache starts afresh.
const maxCachedClients = 10000

func newClientCache(st store.Store, every time.Duration) *clientCache {
	return &clientCache{st: st, now: time.Now, every: every, byID: map[string]*store.Client{}}
}

// get returns the stored client id (shared: callers must not modify it)
// or the store's error (store.ErrNotFound for an unknown client, which is
// not cached).
func (cc *clientCache) get(ctx context.Context, id string) (*store.Client, error) {
	cc.refresh(ctx)
	cc.mu.Lock()
	c := cc.byID[id]
	version := cc.version
	cc.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := cc.st.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if cc.version == version { // not dropped while it loaded
		if len(cc.byID) >= maxCachedClients {
			cc.byID = map[string]*store.Client{}
		}
		cc.byID[id] = c
	}
	cc.mu.Unlock()
	return c, nil
}

// refresh drops the cache when the clients changed. When the fingerprint
// cannot be read the cache is dropped too: the clients are read from the
// store, whose failure the caller then sees.
func (cc *clientCache) refresh(ctx context.Context) {
	now := cc.now()
	cc.mu.Lock()
	fresh := now.Sub(cc.checked) < cc.every && !now.Before(cc.checked)
	cc.mu.Unlock()
	if fresh {
		return
	}
	v, err := cc.st.ClientsVersion(ctx)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if err != nil || v != cc.version {
		cc.byID = map[string]*store.Client{}
		cc.version = v
	}
	if err == nil {
		cc.checked = now
	}
}

// secretsUnthrottled remembers, per client and address, that a client
// authenticated with no wait imposed on it (session.Store.Wait found too
// few failures to throttle), for as long as the client cache trusts
// itself: a portal's stream of token requests then asks Redis about its
// failures once per that time, not on every request (one round trip of a
// refresh grant's few). A wrong secret through this node forgets the pair
// at once; failures counted through another node throttle here when the
// memory ends, within that time, the bound a disabled client already has.
// Only a right secret is remembered, so the memory holds the addresses of
// portals that authenticated, not of whoever guesses.
type secretsUnthrottled struct {
	every time.Duration

	mu    sync.Mutex
	gen   uint64 // counts forgets: what was learned before one is stale
	until map[string]time.Time
}

func newSecretsUnthrottled(every time.Duration) *secretsUnthrottled {
	return &secretsUnthrottled{every: every, until: map[string]time.Time{}}
}

// check reports whether key is known unthrottled at now, and the
// generation to hand remember after asking Redis when it is not.
func (m *secretsUnthrottled) check(key string, now time.Time) (gen uint64, unthrottled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, now.Before(m.until[key])
}

// remember records key unthrottled from now for m.every, unless a wrong
// secret was counted since the generation gen was read: Redis's answer
// may predate that failure.
func (m *secretsUnthrottled) remember(key string, now time.Time, gen uint64) {
	if m.every <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		return
	}
	if len(m.until) >= maxCachedClients {
		m.until = map[string]time.Time{}
	}
	m.until[key] = now.Add(m.every)
}

// forget drops key, and makes every answer read before now stale; call
// it once a wrong secret has been counted.
func (m *secretsUnthrottled) forget(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	delete(m.until, key)
}
