package clientkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/store"
)

// Algorithms are the signature algorithms a client's keys may use, in
// the order discovery lists them.
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA, jose.RS256}

// Limits of a key set.
const (
	MaxSetBytes = 64 << 10
	MaxKeys     = 20
)

// ErrPrivateKey: the set holds private key material (a private key pasted
// in place of the public one).
var ErrPrivateKey = errors.New("the key set contains a private key: register only the public keys")

// ErrTimeout: a jwks_uri did not answer within the fetch timeout.
var ErrTimeout = errors.New("fetch the JWKS: no answer")

// Parse checks raw as a JSON Web Key Set of public signing keys: RSA of
// at least 2048 bits, EC P-256 or Ed25519, use "sig" or none, an alg of
// Algorithms or none, distinct key ids.
func Parse(raw []byte) (*jose.JSONWebKeySet, error) {
	if len(raw) > MaxSetBytes {
		return nil, fmt.Errorf("the key set is larger than %d KiB", MaxSetBytes>>10)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("the key set is not a JSON Web Key Set: %w", err)
	}
	switch {
	case len(set.Keys) == 0:
		return nil, errors.New("the key set has no keys")
	case len(set.Keys) > MaxKeys:
		return nil, fmt.Errorf("the key set has more than %d keys", MaxKeys)
	}
	seen := map[string]bool{}
	for i, k := range set.Keys {
		if err := checkKey(k); err != nil {
			if errors.Is(err, ErrPrivateKey) {
				return nil, err
			}
			return nil, fmt.Errorf("key %d (%q): %w", i+1, k.KeyID, err)
		}
		if seen[k.KeyID] {
			return nil, fmt.Errorf("key id %q is used twice", k.KeyID)
		}
		seen[k.KeyID] = true
	}
	return &set, nil
}

func checkKey(k jose.JSONWebKey) error {
	if _, ok := k.Key.([]byte); ok {
		// A shared secret, not a public key: refused without echoing it.
		return errors.New("symmetric (oct) keys are not accepted: register the public key of an asymmetric pair")
	}
	if !k.IsPublic() {
		return ErrPrivateKey
	}
	if k.Use != "" && k.Use != "sig" {
		return fmt.Errorf("use is %q; only signing keys (sig) are accepted", k.Use)
	}
	if k.Algorithm != "" && !slices.Contains(Algorithms, jose.SignatureAlgorithm(k.Algorithm)) {
		return fmt.Errorf("algorithm %s is not accepted (use one of %s)", k.Algorithm, AlgorithmNames())
	}
	switch pk := k.Key.(type) {
	case *rsa.PublicKey:
		if pk.N.BitLen() < 2048 {
			return errors.New("RSA keys must have at least 2048 bits")
		}
	case *ecdsa.PublicKey:
		if pk.Curve != elliptic.P256() {
			return errors.New("EC keys must be on P-256 (ES256)")
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("key type %T is not accepted (RSA, EC P-256 or Ed25519)", k.Key)
	}
	return nil
}

// AlgorithmNames lists Algorithms for messages.
func AlgorithmNames() string {
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// Fits reports whether key k may verify a signature made with alg: an
// alg on the key must match, and the key type must suit the algorithm.
func Fits(k jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if !slices.Contains(Algorithms, alg) || (k.Algorithm != "" && k.Algorithm != string(alg)) {
		return false
	}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 || alg == jose.PS256
	case *ecdsa.PublicKey:
		return alg == jose.ES256
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// CheckURI checks a jwks_uri: https, or http on a loopback address (a
// portal under development on this machine).
func CheckURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		return errors.New("the JWKS URI must be an absolute URL without credentials or fragment")
	case len(raw) > 2048:
		return errors.New("the JWKS URI is too long")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	}
	return errors.New("the JWKS URI must use https (http only on a loopback address)")
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Fetcher fetches and caches the key sets of clients that register a
// jwks_uri. It is safe for concurrent use.
type Fetcher struct {
	client  *http.Client
	now     func() time.Time
	timeout time.Duration

	mu    sync.Mutex
	cache map[string]*entry
}

type entry struct {
	set       *jose.JSONWebKeySet
	fetchedAt time.Time
	expires   time.Time
}

// Cache bounds of a fetched key set.
const (
	minCache     = time.Minute
	maxCache     = 24 * time.Hour
	defaultCache = time.Hour
	// RefetchEvery is how often an unknown key id may trigger a fetch.
	RefetchEvery = time.Minute
	// FetchTimeout bounds one fetch.
	FetchTimeout = 5 * time.Second
)

// NewFetcher returns a fetcher using hc (nil: a client with FetchTimeout)
// with redirects refused, and now as its clock (nil: time.Now). A fetch
// lasts at most FetchTimeout, or hc.Timeout when that is shorter.
func NewFetcher(hc *http.Client, now func() time.Time) *Fetcher {
	if hc == nil {
		hc = &http.Client{Timeout: FetchTimeout}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if now == nil {
		now = time.Now
	}
	timeout := FetchTimeout
	if c.Timeout > 0 && c.Timeout < timeout {
		timeout = c.Timeout
	}
	return &Fetcher{client: &c, now: now, timeout: timeout, cache: map[string]*entry{}}
}

// Fetch gets and parses the key set at uri now, bypassing the cache (a
// registration checks the URI works before anything is stored).
func (f *Fetcher) Fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	set, _, err := f.fetch(ctx, uri)
	return set, err
}

func (f *Fetcher) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, time.Duration, error) {
	if err := CheckURI(uri); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, 0, fmt.Errorf("%w within %s", ErrTimeout, f.timeout)
		}
		return nil, 0, fmt.Errorf("fetch the JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetch the JWKS: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSetBytes+1))
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, 0, fmt.Errorf("%w within %s", ErrTimeout, f.timeout)
	} else if err != nil {
		return nil, 0, fmt.Errorf("fetch the JWKS: %w", err)
	}
	set, err := Parse(body)
	if err != nil {
		return nil, 0, err
	}
	return set, cacheFor(resp.Header.Get("Cache-Control")), nil
}

// cacheFor reads max-age from Cache-Control, within [minCache, maxCache];
// no-store and no-cache still cache for minCache (a client must not make
// every token request fetch its keys).
func cacheFor(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(strings.ToLower(d)), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return min(max(time.Duration(n)*time.Second, minCache), maxCache)
			}
		}
	}
	return defaultCache
}

// Keys returns the keys of c with key id kid (every key when kid is
// empty): from its registered JWKS, or from its jwks_uri through the
// cache, fetched again when kid is unknown and the last fetch is at
// least RefetchEvery old (a portal that rotated its keys).
func (f *Fetcher) Keys(ctx context.Context, c *store.Client, kid string) ([]jose.JSONWebKey, error) {
	if c.JWKS != "" {
		set, err := Parse([]byte(c.JWKS))
		if err != nil {
			return nil, err
		}
		return pick(set, kid), nil
	}
	if c.JWKSURI == "" {
		return nil, errors.New("the client has no registered keys")
	}
	now := f.now()
	f.mu.Lock()
	e := f.cache[c.JWKSURI]
	f.mu.Unlock()
	if e != nil && now.Before(e.expires) {
		if keys := pick(e.set, kid); len(keys) > 0 || now.Sub(e.fetchedAt) < RefetchEvery {
			return keys, nil
		}
	}
	set, ttl, err := f.fetch(ctx, c.JWKSURI)
	if err != nil {
		if e != nil && now.Before(e.expires) {
			return pick(e.set, kid), nil // keep what was fetched before
		}
		return nil, err
	}
	f.mu.Lock()
	f.cache[c.JWKSURI] = &entry{set: set, fetchedAt: now, expires: now.Add(ttl)}
	f.mu.Unlock()
	return pick(set, kid), nil
}

func pick(set *jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	if kid == "" {
		return set.Keys
	}
	return set.Key(kid)
}
