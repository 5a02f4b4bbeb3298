package keys

import (
	"context"
	"crypto/sha256"

	"github.com/citizenid/citizenid/internal/store"
)

// Published returns the keys relying parties should accept, of every
// algorithm found in the store: active keys first, then next keys, then
// retired keys whose VerifyUntil is still in the future; within a state by
// algorithm (RS256, PS256, ES256, EdDSA), then oldest first, then by kid.
// The order depends on the store only, so every node returns the same
// list and the same KeySetTag.
func (m *Manager) Published(ctx context.Context) ([]PublicKey, error) {
	return m.published(ctx, func(PublicKey) bool { return true })
}

// PublishedFor is Published restricted to the keys of algorithm alg (SAML
// publishes only RS256 keys). Keys of an algorithm no longer configured
// are still published until Rotate retires them and their time is up.
func (m *Manager) PublishedFor(ctx context.Context, alg string) ([]PublicKey, error) {
	return m.published(ctx, func(k PublicKey) bool { return k.Algorithm == alg })
}

func (m *Manager) published(ctx context.Context, keep func(PublicKey) bool) ([]PublicKey, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := make([]PublicKey, 0, len(s.published))
	for _, p := range s.published {
		if p.State == store.KeyRetired && !p.verifyUntil.After(now) || !keep(p.PublicKey) {
			continue
		}
		out = append(out, p.PublicKey)
	}
	return out, nil
}

// KeySetTag identifies a list of published keys: equal lists (same kids,
// algorithms and states in the same order) have equal tags, on every node,
// and a key added, removed, or changing state changes it. A kid is the
// thumbprint of its key, so the tag covers the key material too. It is 24
// URL-safe characters, fit for an ETag between quotes; a caller caches
// what it derives from the keys (a JWKS document, discovery) by it.
func KeySetTag(keys []PublicKey) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k.ID))
		h.Write([]byte{0})
		h.Write([]byte(k.Algorithm))
		h.Write([]byte{0})
		h.Write([]byte(k.State))
		h.Write([]byte{'\n'})
	}
	return b64.EncodeToString(h.Sum(nil)[:18])
}
