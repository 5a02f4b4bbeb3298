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
