package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// RS256 is the only signing algorithm the Manager creates keys for.
const RS256 = "RS256"

// Defaults for zero Options fields.
const (
	DefaultRSABits          = 2048
	DefaultCacheTTL         = 10 * time.Second
	DefaultMaxTokenLifetime = 24 * time.Hour
)

// Errors the Manager returns (wrapped); callers branch with errors.Is.
var (
	// ErrNoActiveKey: the store holds no active key; call Ensure.
	ErrNoActiveKey = errors.New("keys: no active signing key")
	// ErrActiveKey: the active key cannot be retired directly; Rotate.
	ErrActiveKey = errors.New("keys: the active signing key cannot be retired, rotate instead")
	// ErrLastNextKey: retiring the only next key would leave Rotate nothing
	// published to promote.
	ErrLastNextKey = errors.New("keys: the only next signing key cannot be retired")
)

// Options configure a Manager. Zero fields take the defaults given.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxTokenLifetime is the longest lifetime of anything signed (access
	// token, ID token, SAML assertion). A retired key stays published for
	// this long plus CacheTTL (other nodes may sign with it until their
	// cache expires). Default 24h.
	MaxTokenLifetime time.Duration
	// RSABits is the size of new RSA keys; default 2048, and less than
	// 2048 makes key creation fail.
	RSABits int
	// CacheTTL is how long keys read from the store are trusted before
	// being read again; default 10s. Negative disables caching.
	CacheTTL time.Duration
	// Rand is passed to RSA key generation; default crypto/rand. Since
	// Go 1.26 the standard library ignores it there unless
	// GODEBUG=cryptocustomrand=1.
	Rand io.Reader
}

// SigningKey is the active key, decrypted, ready to sign.
type SigningKey struct {
	ID        string
	Algorithm string        // "RS256"
	Signer    crypto.Signer // *rsa.PrivateKey
	Public    crypto.PublicKey
}

// PublicKey is a key relying parties should accept signatures from.
type PublicKey struct {
	ID, Algorithm, State string
	Key                  crypto.PublicKey
	CreatedAt            time.Time
}

// Manager creates, rotates and serves signing keys kept in the store.
// It is safe for concurrent use, and several Managers (nodes, the CLI) may
// share one store.
type Manager struct {
	st       store.SigningKeys
	sealer   *Sealer
	now      func() time.Time
	rand     io.Reader
	maxLife  time.Duration
	rsaBits  int
	cacheTTL time.Duration

	mu   sync.Mutex
	snap *snapshot // nil when invalidated
	gen  uint64    // bumped on invalidation; a load started before does not install
}

// snapshot is what one ListSigningKeys said, parsed.
type snapshot struct {
	loadedAt   time.Time
	published  []published // every key in publication order
	signing    *SigningKey // nil if signingErr != nil
	signingErr error
}

type published struct {
	PublicKey
	verifyUntil time.Time
}

// NewManager returns a Manager over st, sealing private keys with sealer.
func NewManager(st store.SigningKeys, sealer *Sealer, opts Options) *Manager {
	m := &Manager{
		st:       st,
		sealer:   sealer,
		now:      opts.Now,
		rand:     opts.Rand,
		maxLife:  opts.MaxTokenLifetime,
		rsaBits:  opts.RSABits,
		cacheTTL: opts.CacheTTL,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.maxLife <= 0 {
		m.maxLife = DefaultMaxTokenLifetime
	}
	if m.rsaBits == 0 {
		m.rsaBits = DefaultRSABits
	}
	if m.cacheTTL == 0 {
		m.cacheTTL = DefaultCacheTTL
	}
	return m
}

// Ensure makes sure there is an active key and a next key. On first start
// it creates both (the first active key is necessarily not pre-published).
// If there is a next key but no active one, the oldest next key is
// promoted. Ensure is idempotent and safe to run from several processes at
// once: the decision is taken again inside the store's serialised update.
func (m *Manager) Ensure(ctx context.Context) error {
	keys, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	need := missing(keys)
	if need == 0 {
		return nil
	}
	now := m.now()
	// Generate outside the serialised update so it is not held for the
	// seconds RSA generation can take; generate again inside only if
	// another process changed the set in between.
	pre := make([]store.SigningKey, 0, need)
	for range need {
		k, err := m.newKey(now)
		if err != nil {
			return fmt.Errorf("ensure signing keys: %w", err)
		}
		pre = append(pre, k)
	}
	err = m.st.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		if err := m.canOpen(keys); err != nil {
			return nil, err
		}
		pool := pre
		take := func() (store.SigningKey, error) {
			if len(pool) > 0 {
				k := pool[0]
				pool = pool[1:]
				return k, nil
			}
			return m.newKey(now)
		}
		out := slices.Clone(keys)
		if active(out) < 0 {
			if i := oldestNext(out); i >= 0 {
				out[i].State = store.KeyActive
				out[i].ActivatedAt = now
			} else {
				k, err := take()
				if err != nil {
					return nil, err
				}
				k.State = store.KeyActive
				k.ActivatedAt = now
				out = append(out, k)
			}
		}
		if oldestNext(out) < 0 {
			k, err := take()
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, nil
	})
	m.invalidate()
	if err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	return nil
}

// ErrWrongMasterKey: the master key cannot open the stored signing keys;
// nothing is written with it (a key sealed with it would be one no other
// node can open).
var ErrWrongMasterKey = errors.New("the master key cannot open the stored signing keys: it is not the key the other nodes use")

// canOpen checks that the master key opens every key that signs or will.
func (m *Manager) canOpen(keys []store.SigningKey) error {
	for _, k := range keys {
		if k.State == store.KeyRetired {
			continue
		}
		if _, err := m.open(k); err != nil {
			return fmt.Errorf("%w (%v)", ErrWrongMasterKey, err)
		}
	}
	return nil
}

// Rotate promotes the oldest next key to active, retires the active key
// (published until now + MaxTokenLifetime + CacheTTL), creates a new next
// key, and deletes retired keys whose VerifyUntil has passed. It returns
// the new active key's ID.
func (m *Manager) Rotate(ctx context.Context) (newActiveKID string, err error) {
	now := m.now()
	next, err := m.newKey(now)
	if err != nil {
		return "", fmt.Errorf("rotate signing keys: %w", err)
	}
	err = m.st.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		if err := m.canOpen(keys); err != nil {
			return nil, err
		}
		promote := oldestNext(keys)
		out := make([]store.SigningKey, 0, len(keys)+2)
		for i, k := range keys {
			switch {
			case i == promote:
				k.State = store.KeyActive
				k.ActivatedAt = now
				newActiveKID = k.ID
			case k.State == store.KeyActive:
				k.State = store.KeyRetired
				k.RetiredAt = now
				k.VerifyUntil = now.Add(m.retention())
			case k.State == store.KeyRetired && !k.VerifyUntil.After(now):
				continue // expired: delete
			}
			out = append(out, k)
		}
		if promote < 0 {
			// There was no next key (Ensure never ran, or someone removed
			// it by hand). This key signs without having been published
			// first: relying parties that cached the JWKS will not know
			// it until they fetch it again.
			k, err := m.newKey(now)
			if err != nil {
				return nil, err
			}
			k.State = store.KeyActive
			k.ActivatedAt = now
			newActiveKID = k.ID
			out = append(out, k)
		}
		return append(out, next), nil
	})
	m.invalidate()
	if err != nil {
		return "", fmt.Errorf("rotate signing keys: %w", err)
	}
	return newActiveKID, nil
}

// Retire stops publishing key kid now: it becomes retired with
// VerifyUntil = now, so tokens it signed no longer verify, and the next
// Rotate deletes it. Use it for a key that must no longer be trusted.
// Retiring an already retired key ends its verification window early; one
// already past VerifyUntil is left as it is.
//
// It returns ErrActiveKey for the active key (Rotate first),
// ErrLastNextKey for the only next key, and store.ErrNotFound for an
// unknown kid, all wrapped.
func (m *Manager) Retire(ctx context.Context, kid string) error {
	now := m.now()
	err := m.st.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		i := slices.IndexFunc(keys, func(k store.SigningKey) bool { return k.ID == kid })
		if i < 0 {
			return nil, store.ErrNotFound
		}
		out := slices.Clone(keys)
		k := &out[i]
		switch k.State {
		case store.KeyActive:
			return nil, ErrActiveKey
		case store.KeyNext:
			nexts := 0
			for _, o := range keys {
				if o.State == store.KeyNext {
					nexts++
				}
			}
			if nexts < 2 {
				return nil, ErrLastNextKey
			}
			k.State = store.KeyRetired
			k.RetiredAt = now
			k.VerifyUntil = now
		case store.KeyRetired:
			if k.VerifyUntil.After(now) {
				k.VerifyUntil = now
			}
		default:
			return nil, fmt.Errorf("unknown state %q", k.State)
		}
		return out, nil
	})
	m.invalidate()
	if err != nil {
		return fmt.Errorf("retire signing key %s: %w", kid, err)
	}
	return nil
}

// Signing returns the active key, decrypted. With several active keys
// (which only a hand-edited store can hold) the most recently activated
// one signs. It returns ErrNoActiveKey when there is none, and an error
// wrapping ErrUnseal when the master key does not open it.
func (m *Manager) Signing(ctx context.Context) (*SigningKey, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	if s.signingErr != nil {
		return nil, fmt.Errorf("signing key: %w", s.signingErr)
	}
	return s.signing, nil
}

// Published returns the keys relying parties should accept: the active
// key first, then next keys, then retired keys whose VerifyUntil is still
// in the future, each group oldest first.
func (m *Manager) Published(ctx context.Context) ([]PublicKey, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := make([]PublicKey, 0, len(s.published))
	for _, p := range s.published {
		if p.State == store.KeyRetired && !p.verifyUntil.After(now) {
			continue
		}
		out = append(out, p.PublicKey)
	}
	return out, nil
}

// List returns every key as stored (private keys still sealed), oldest
// first, for the CLI and the admin console.
func (m *Manager) List(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return keys, nil
}

// retention is how long a retired key stays published: a node whose cache
// has not yet seen the rotation may sign with it for up to CacheTTL, and
// what it signed lives up to MaxTokenLifetime.
func (m *Manager) retention() time.Duration {
	return m.maxLife + max(m.cacheTTL, 0)
}

func (m *Manager) invalidate() {
	m.mu.Lock()
	m.snap = nil
	m.gen++
	m.mu.Unlock()
}

// current returns the cached snapshot, or reads the store again when it
// is older than CacheTTL (or the clock went backwards).
func (m *Manager) current(ctx context.Context) (*snapshot, error) {
	now := m.now()
	m.mu.Lock()
	s, gen := m.snap, m.gen
	m.mu.Unlock()
	if s != nil && !now.Before(s.loadedAt) && now.Sub(s.loadedAt) < m.cacheTTL {
		return s, nil
	}
	keys, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ns, err := m.build(keys, s, now)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	m.mu.Lock()
	if m.gen == gen {
		m.snap = ns
	}
	m.mu.Unlock()
	return ns, nil
}

// build parses rows into a snapshot, reusing prev's decrypted key when the
// active key has not changed.
func (m *Manager) build(rows []store.SigningKey, prev *snapshot, now time.Time) (*snapshot, error) {
	s := &snapshot{loadedAt: now}
	order := []string{store.KeyActive, store.KeyNext, store.KeyRetired}
	for _, state := range order {
		for _, r := range rows {
			if r.State != state {
				continue
			}
			pub, err := x509.ParsePKIXPublicKey(r.PublicKey)
			if err != nil {
				return nil, fmt.Errorf("key %s: parse public key: %w", r.ID, err)
			}
			s.published = append(s.published, published{
				PublicKey: PublicKey{
					ID: r.ID, Algorithm: r.Algorithm, State: r.State, Key: pub, CreatedAt: r.CreatedAt,
				},
				verifyUntil: r.VerifyUntil,
			})
		}
	}
	a := active(rows)
	switch {
	case a < 0:
		s.signingErr = ErrNoActiveKey
	case prev != nil && prev.signing != nil && prev.signing.ID == rows[a].ID:
		s.signing = prev.signing
	default:
		s.signing, s.signingErr = m.open(rows[a])
	}
	return s, nil
}

// open decrypts a stored key and checks it belongs to its row.
func (m *Manager) open(r store.SigningKey) (*SigningKey, error) {
	der, err := m.sealer.Open(r.PrivateKey, []byte(r.ID))
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w", r.ID, err)
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: parse: %w", r.ID, err)
	}
	rk, ok := priv.(*rsa.PrivateKey)
	if !ok || r.Algorithm != RS256 {
		return nil, fmt.Errorf("open signing key %s: algorithm %s with %T is not supported", r.ID, r.Algorithm, priv)
	}
	pub, err := x509.ParsePKIXPublicKey(r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: parse public key: %w", r.ID, err)
	}
	if !rk.PublicKey.Equal(pub) || thumbprint(&rk.PublicKey) != r.ID {
		return nil, fmt.Errorf("open signing key %s: private key does not match the row's public key or kid", r.ID)
	}
	return &SigningKey{ID: r.ID, Algorithm: RS256, Signer: rk, Public: &rk.PublicKey}, nil
}

// newKey generates an RSA key in state next, sealed with its kid as
// associated data.
func (m *Manager) newKey(now time.Time) (store.SigningKey, error) {
	if m.rsaBits < 2048 {
		return store.SigningKey{}, fmt.Errorf("new signing key: %d-bit RSA is below the 2048-bit minimum", m.rsaBits)
	}
	priv, err := rsa.GenerateKey(m.rand, m.rsaBits)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new signing key: %w", err)
	}
	defer clear(der)
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new signing key: %w", err)
	}
	kid := thumbprint(&priv.PublicKey)
	sealed, err := m.sealer.Seal(der, []byte(kid))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new signing key: %w", err)
	}
	return store.SigningKey{
		ID:         kid,
		Algorithm:  RS256,
		State:      store.KeyNext,
		PublicKey:  pub,
		PrivateKey: sealed,
		CreatedAt:  now,
	}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key: SHA-256
// of {"e":…,"kty":"RSA","n":…} (members in that order, no white space,
// unsigned big-endian integers in unpadded base64url), in unpadded
// base64url.
func thumbprint(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding
	e := minimalBytes(uint64(pub.E))
	j := `{"e":"` + b64.EncodeToString(e) + `","kty":"RSA","n":"` + b64.EncodeToString(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(j))
	return b64.EncodeToString(sum[:])
}

// minimalBytes returns v as big-endian bytes without leading zeros.
func minimalBytes(v uint64) []byte {
	var b []byte
	for ; v > 0; v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	return b
}

// missing counts the keys Ensure must create when nothing can be promoted.
func missing(keys []store.SigningKey) int {
	hasActive, hasNext := active(keys) >= 0, oldestNext(keys) >= 0
	switch {
	case !hasActive && !hasNext:
		return 2
	case !hasActive || !hasNext:
		// No active: the next one is promoted and a new next is needed.
		return 1
	}
	return 0
}

// active returns the index of the most recently activated active key, or -1.
func active(keys []store.SigningKey) int {
	best := -1
	for i, k := range keys {
		if k.State == store.KeyActive && (best < 0 || !k.ActivatedAt.Before(keys[best].ActivatedAt)) {
			best = i
		}
	}
	return best
}

// oldestNext returns the index of the next key created first, or -1.
func oldestNext(keys []store.SigningKey) int {
	best := -1
	for i, k := range keys {
		if k.State == store.KeyNext && (best < 0 || k.CreatedAt.Before(keys[best].CreatedAt)) {
			best = i
		}
	}
	return best
}
