package keys

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Defaults for zero Options fields.
const (
	DefaultRSABits          = 2048
	DefaultCacheTTL         = 10 * time.Second
	DefaultMaxTokenLifetime = 24 * time.Hour
)

// Errors the Manager returns (wrapped); callers branch with errors.Is.
var (
	// ErrNoActiveKey: the store holds no active key (of the algorithm
	// asked for); call Ensure.
	ErrNoActiveKey = errors.New("keys: no active signing key")
	// ErrActiveKey: the active key cannot be retired directly; Rotate.
	ErrActiveKey = errors.New("keys: the active signing key cannot be retired, rotate instead")
	// ErrLastNextKey: retiring the only next key of an algorithm would
	// leave Rotate nothing published to promote.
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
	// RSABits is the size of new RSA keys (RS256, PS256); default 2048,
	// and less than 2048 makes key creation fail.
	RSABits int
	// CacheTTL is how long keys read from the store are trusted before
	// being read again; default 10s. Negative disables caching.
	CacheTTL time.Duration
	// Rand is passed to key generation; default crypto/rand. Since Go 1.26
	// the standard library ignores it there unless
	// GODEBUG=cryptocustomrand=1.
	Rand io.Reader
	// Algorithms are the algorithms to keep a key lifecycle for, among
	// SupportedAlgorithms. RS256 is always kept (SAML signs with it, and
	// every OIDC client can verify it), as is DefaultAlgorithm. Default
	// [RS256]. Empty names are ignored; an unsupported one makes Ensure,
	// Rotate and SigningFor fail.
	Algorithms []string
	// DefaultAlgorithm signs OIDC tokens unless a client asks for another
	// (internal/oidc decides; the Manager only reports it). Default RS256.
	DefaultAlgorithm string
}

// SigningKey is an active key, decrypted, ready to sign.
type SigningKey struct {
	ID        string
	Algorithm string        // RS256, PS256, ES256 or EdDSA
	Signer    crypto.Signer // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	Public    crypto.PublicKey
}

// PublicKey is a key relying parties should accept signatures from.
type PublicKey struct {
	ID, Algorithm, State string
	Key                  crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	CreatedAt            time.Time
}

// Manager creates, rotates and serves signing keys kept in the store, one
// lifecycle per configured algorithm. It is safe for concurrent use, and
// several Managers (nodes, the CLI) may share one store.
type Manager struct {
	st       store.SigningKeys
	sealer   *Sealer
	now      func() time.Time
	rand     io.Reader
	maxLife  time.Duration
	rsaBits  int
	cacheTTL time.Duration
	algs     []string // canonical order, RS256 first
	defAlg   string
	optErr   error // an unsupported algorithm in Options

	mu   sync.Mutex
	snap *snapshot // nil when invalidated
	gen  uint64    // bumped on invalidation; a load started before does not install
}

// snapshot is what one ListSigningKeys said, parsed.
type snapshot struct {
	loadedAt  time.Time
	published []published            // every key in publication order
	signing   map[string]*SigningKey // by algorithm; absent if signingErr has it
	signErr   map[string]error
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
		defAlg:   cmp.Or(opts.DefaultAlgorithm, RS256),
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
	want := []string{RS256, m.defAlg}
	for _, alg := range opts.Algorithms {
		if alg != "" {
			want = append(want, alg)
		}
	}
	var errs []error
	for _, alg := range want {
		if err := CheckAlgorithm(alg); err != nil {
			errs = append(errs, err)
		}
	}
	m.optErr = errors.Join(errs...)
	if CheckAlgorithm(m.defAlg) != nil {
		m.defAlg = RS256 // and optErr says why
	}
	for _, alg := range supported {
		if slices.Contains(want, alg) {
			m.algs = append(m.algs, alg)
		}
	}
	return m
}

// Algorithms returns the algorithms this Manager keeps keys for, in the
// order RS256, PS256, ES256, EdDSA.
func (m *Manager) Algorithms() []string { return slices.Clone(m.algs) }

// DefaultAlgorithm returns the algorithm OIDC tokens are signed with unless
// a client asks for another; always one of Algorithms.
func (m *Manager) DefaultAlgorithm() string { return m.defAlg }

func (m *Manager) keeps(alg string) bool { return slices.Contains(m.algs, alg) }

// checkAlgorithms returns an error wrapping ErrAlgorithm for the first alg
// this Manager does not keep keys for.
func (m *Manager) checkAlgorithms(algs []string) error {
	if m.optErr != nil {
		return m.optErr
	}
	for _, alg := range algs {
		if !m.keeps(alg) {
			return fmt.Errorf("%w: %q (keys are kept for %s)", ErrAlgorithm, alg, strings.Join(m.algs, ", "))
		}
	}
	return nil
}

// Ensure makes sure every configured algorithm has an active key and a
// next key. On first start it creates both (the first active key is
// necessarily not pre-published). If an algorithm has a next key but no
// active one, its oldest next key is promoted. Keys of algorithms no
// longer configured are left alone (Rotate retires them). Ensure is
// idempotent and safe to run from several processes at once: the decision
// is taken again inside the store's serialised update.
func (m *Manager) Ensure(ctx context.Context) error {
	if err := m.checkAlgorithms(nil); err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	keys, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	now := m.now()
	// Generate outside the serialised update so it is not held for the
	// seconds RSA generation can take; generate again inside only if
	// another process changed the set in between.
	pre := map[string][]store.SigningKey{}
	need := false
	for _, alg := range m.algs {
		for range missing(keys, alg) {
			k, err := m.newKeyFor(alg, now)
			if err != nil {
				return fmt.Errorf("ensure signing keys: %w", err)
			}
			pre[alg] = append(pre[alg], k)
			need = true
		}
	}
	if !need {
		return nil
	}
	err = m.st.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		if err := m.canOpen(keys); err != nil {
			return nil, err
		}
		out := slices.Clone(keys)
		for _, alg := range m.algs {
			pool := pre[alg]
			take := func() (store.SigningKey, error) {
				if len(pool) > 0 {
					k := pool[0]
					pool = pool[1:]
					return k, nil
				}
				return m.newKeyFor(alg, now)
			}
			if active(out, alg) < 0 {
				if i := oldestNext(out, alg); i >= 0 {
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
			if oldestNext(out, alg) < 0 {
				k, err := take()
				if err != nil {
					return nil, err
				}
				out = append(out, k)
			}
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

// Rotate rotates every configured algorithm (see RotateFor) and returns
// the new active RS256 key's ID.
func (m *Manager) Rotate(ctx context.Context) (newActiveKID string, err error) {
	kids, err := m.RotateFor(ctx)
	if err != nil {
		return "", err
	}
	return kids[RS256], nil
}

// RotateFor rotates the given algorithms, or every configured one when
// none is given, in one serialised update. For each: the oldest next key
// becomes active, the active key is retired (published until now +
// MaxTokenLifetime + CacheTTL), and a new next key is created. Retired keys
// whose VerifyUntil has passed are deleted, whatever their algorithm.
//
// Rotating every algorithm also retires the keys of algorithms no longer
// configured: an active one stays published as long as any retired key,
// a next one (which never signed) stops being published at once.
//
// It returns the new active key's ID by algorithm, and an error wrapping
// ErrAlgorithm for an algorithm not configured.
func (m *Manager) RotateFor(ctx context.Context, algs ...string) (newActive map[string]string, err error) {
	if err := m.checkAlgorithms(algs); err != nil {
		return nil, fmt.Errorf("rotate signing keys: %w", err)
	}
	all := len(algs) == 0
	if !all {
		// Canonical order, each once.
		algs = slices.DeleteFunc(slices.Clone(m.algs), func(a string) bool { return !slices.Contains(algs, a) })
	} else {
		algs = m.algs
	}
	now := m.now()
	next := map[string]store.SigningKey{}
	for _, alg := range algs {
		if next[alg], err = m.newKeyFor(alg, now); err != nil {
			return nil, fmt.Errorf("rotate signing keys: %w", err)
		}
	}
	newActive = map[string]string{}
	err = m.st.UpdateSigningKeys(ctx, func(keys []store.SigningKey) ([]store.SigningKey, error) {
		clear(newActive)
		if err := m.canOpen(keys); err != nil {
			return nil, err
		}
		promote := map[int]bool{}
		for _, alg := range algs {
			if i := oldestNext(keys, alg); i >= 0 {
				promote[i] = true
			}
		}
		dropped := func(k store.SigningKey) bool { return all && !m.keeps(k.Algorithm) }
		out := make([]store.SigningKey, 0, len(keys)+2*len(algs))
		for i, k := range keys {
			switch {
			case promote[i]:
				k.State = store.KeyActive
				k.ActivatedAt = now
				newActive[k.Algorithm] = k.ID
			case k.State == store.KeyActive && (slices.Contains(algs, k.Algorithm) || dropped(k)):
				k.State = store.KeyRetired
				k.RetiredAt = now
				k.VerifyUntil = now.Add(m.retention())
			case k.State == store.KeyNext && dropped(k):
				k.State = store.KeyRetired
				k.RetiredAt = now
				k.VerifyUntil = now
			case k.State == store.KeyRetired && !k.VerifyUntil.After(now):
				continue // expired: delete
			}
			out = append(out, k)
		}
		for _, alg := range algs {
			if newActive[alg] != "" {
				continue
			}
			// There was no next key (Ensure never ran, or someone removed
			// it by hand). This key signs without having been published
			// first: relying parties that cached the JWKS will not know
			// it until they fetch it again.
			k, err := m.newKeyFor(alg, now)
			if err != nil {
				return nil, err
			}
			k.State = store.KeyActive
			k.ActivatedAt = now
			newActive[alg] = k.ID
			out = append(out, k)
		}
		for _, alg := range algs {
			out = append(out, next[alg])
		}
		return out, nil
	})
	m.invalidate()
	if err != nil {
		return nil, fmt.Errorf("rotate signing keys: %w", err)
	}
	return newActive, nil
}

// Retire stops publishing key kid now: it becomes retired with
// VerifyUntil = now, so tokens it signed no longer verify, and the next
// Rotate deletes it. Use it for a key that must no longer be trusted.
// Retiring an already retired key ends its verification window early; one
// already past VerifyUntil is left as it is.
//
// It returns ErrActiveKey for an active key (Rotate first),
// ErrLastNextKey for the only next key of its algorithm, and
// store.ErrNotFound for an unknown kid, all wrapped.
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
				if o.State == store.KeyNext && o.Algorithm == k.Algorithm {
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

// Signing returns the active RS256 key, decrypted: SigningFor(ctx, RS256).
func (m *Manager) Signing(ctx context.Context) (*SigningKey, error) {
	return m.SigningFor(ctx, RS256)
}

// SigningFor returns the active key of algorithm alg, decrypted. With
// several active keys of one algorithm (which only a hand-edited store can
// hold) the most recently activated one signs. It returns an error
// wrapping ErrAlgorithm when alg is not configured, ErrNoActiveKey when
// there is no active key of alg, and ErrUnseal when the master key does not
// open it.
func (m *Manager) SigningFor(ctx context.Context, alg string) (*SigningKey, error) {
	if err := m.checkAlgorithms([]string{alg}); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.signErr[alg]; err != nil {
		return nil, fmt.Errorf("signing key %s: %w", alg, err)
	}
	return s.signing[alg], nil
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

var stateRank = map[string]int{store.KeyActive: 0, store.KeyNext: 1, store.KeyRetired: 2}

// build parses rows into a snapshot, reusing prev's decrypted keys when an
// algorithm's active key has not changed.
func (m *Manager) build(rows []store.SigningKey, prev *snapshot, now time.Time) (*snapshot, error) {
	s := &snapshot{loadedAt: now, signing: map[string]*SigningKey{}, signErr: map[string]error{}}
	for _, r := range rows {
		if _, ok := stateRank[r.State]; !ok {
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
	slices.SortFunc(s.published, func(a, b published) int {
		return cmp.Or(
			cmp.Compare(stateRank[a.State], stateRank[b.State]),
			cmp.Compare(rank(a.Algorithm), rank(b.Algorithm)),
			cmp.Compare(a.Algorithm, b.Algorithm),
			a.CreatedAt.Compare(b.CreatedAt),
			cmp.Compare(a.ID, b.ID),
		)
	})
	for _, alg := range m.algs {
		a := active(rows, alg)
		switch {
		case a < 0:
			s.signErr[alg] = ErrNoActiveKey
		case prev != nil && prev.signing[alg] != nil && prev.signing[alg].ID == rows[a].ID:
			s.signing[alg] = prev.signing[alg]
		default:
			k, err := m.open(rows[a])
			if err != nil {
				s.signErr[alg] = err
			} else {
				s.signing[alg] = k
			}
		}
	}
	return s, nil
}

// missing counts the keys of alg Ensure must create when nothing can be
// promoted.
func missing(keys []store.SigningKey, alg string) int {
	hasActive, hasNext := active(keys, alg) >= 0, oldestNext(keys, alg) >= 0
	switch {
	case !hasActive && !hasNext:
		return 2
	case !hasActive || !hasNext:
		// No active: the next one is promoted and a new next is needed.
		return 1
	}
	return 0
}

// active returns the index of the most recently activated active key of
// alg, or -1.
func active(keys []store.SigningKey, alg string) int {
	best := -1
	for i, k := range keys {
		if k.State == store.KeyActive && k.Algorithm == alg && (best < 0 || !k.ActivatedAt.Before(keys[best].ActivatedAt)) {
			best = i
		}
	}
	return best
}

// oldestNext returns the index of the next key of alg created first, or -1.
func oldestNext(keys []store.SigningKey, alg string) int {
	best := -1
	for i, k := range keys {
		if k.State == store.KeyNext && k.Algorithm == alg && (best < 0 || k.CreatedAt.Before(keys[best].CreatedAt)) {
			best = i
		}
	}
	return best
}
