package password

import (
	"golang.org/x/text/unicode/norm"

	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the OWASP/RFC 9106 "low memory" baseline from
// DESIGN.md: m=19456 KiB (19 MiB), t=2, p=1, 16-byte salt, 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters, both for hashing and for hashes read back from the
// store. The upper bounds cap the work a stored hash can demand: at most
// 1 GiB of memory and 20 passes per verification.
const (
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 20
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	// maxPHCLen bounds the whole encoded string before any decoding.
	maxPHCLen = 256
)

// ErrMalformedHash is wrapped by Verify when the stored string is not an
// argon2id PHC string this package accepts.
var ErrMalformedHash = errors.New("password: malformed hash")

// Validate reports whether p is within the bounds this package accepts.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d: want 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("argon2id threads %d: want 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB: want %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d: want %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d: want %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hasher hashes and verifies passwords with fixed parameters. It is safe
// for concurrent use.
//
// At most GOMAXPROCS argon2id runs are in flight at once; the others wait
// their turn. Interleaving more runs than there are cores finishes none of
// them sooner: it holds one memory-hard buffer (19 MiB by default) per
// waiting login and evicts each run's blocks from the cache for the
// others. A spike of logins then costs a queue, not memory: the process
// holds GOMAXPROCS buffers however many citizens press "log in" at once.
//
// Each run ends by keeping its buffer for the next (argon2id), so that a
// stream of logins allocates none. When no run has ended for idleReturn,
// the kept buffers are unmapped, and what the heap freed meanwhile (a
// rehash's buffer of other parameters, the heap buffers where there is
// no mmap, the logins' own garbage) goes back to the system too
// (returnMemory). The Go runtime hands freed memory back only after a
// later collection, and a server gone quiet after a spike collects every
// two minutes: without this its RSS stays at the spike's for that long.
type Hasher struct {
	params Params
	rand   io.Reader
	slots  chan struct{}

	mu   sync.Mutex
	kept []keptBlocks // buffers of h.params' size, at most one per slot

	idle         *time.Timer // runs returnMemory idleReturn after the last run
	returnMemory func()      // debug.FreeOSMemory; tests count calls

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher using p for new hashes and rand for salts
// (crypto/rand when nil). Parameters outside the accepted bounds make Hash
// fail; check them early with [Params.Validate].
func NewHasher(p Params, rand io.Reader) *Hasher {
	h := &Hasher{params: p, rand: rand, slots: make(chan struct{}, runtime.GOMAXPROCS(0)), returnMemory: debug.FreeOSMemory}
	h.idle = time.AfterFunc(time.Hour, h.whenIdle)
	h.idle.Stop()
	return h
}

// idleReturn is how long after the last argon2id run the buffers go back
// to the system: long enough that a steady stream of logins never pays
// for it (one collection and the page faults of the next buffer).
const idleReturn = 2 * time.Second

// key runs argon2id in one of h's slots, in a kept buffer when there is
// one. A hash stored with other parameters (rehashed after this login)
// runs in a buffer of its own, which is not kept.
func (h *Hasher) key(password string, salt []byte, p Params) []byte {
	h.slots <- struct{}{}
	defer func() {
		<-h.slots
		h.idle.Reset(idleReturn)
	}()
	if p.Memory != h.params.Memory || p.Threads != h.params.Threads {
		return argon2id(nil, normalize(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
	h.mu.Lock()
	var k keptBlocks
	if n := len(h.kept); n > 0 {
		k, h.kept = h.kept[n-1], h.kept[:n-1]
	}
	h.mu.Unlock()
	if k.blocks == nil {
		k.blocks, k.unmap = mapBlocks(argon2Blocks(p.Memory, p.Threads))
	}
	key := argon2id(k.blocks, normalize(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.mu.Lock()
	h.kept = append(h.kept, k)
	h.mu.Unlock()
	return key
}

// keptBlocks is a buffer the hasher keeps, outside Go's heap (mapBlocks).
type keptBlocks struct {
	blocks []argon2Block
	unmap  func()
}

func (h *Hasher) whenIdle() {
	if len(h.slots) == 0 {
		h.mu.Lock()
		kept := h.kept
		h.kept = nil
		h.mu.Unlock()
		for _, k := range kept {
			k.unmap() // none is in use: a run takes its buffer out of kept
		}
		h.returnMemory()
	}
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	if err := h.params.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	r := h.rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	return encode(h.params, salt, h.key(password, salt, h.params)), nil
}

// Verify reports whether password matches the PHC string phc, in constant
// time with respect to the key. needsRehash is true when phc was made with
// parameters (memory, time, threads, salt or key length) other than h's;
// the caller should then store a fresh Hash after a successful login.
//
// err wraps [ErrMalformedHash] when phc is not an argon2id v=19 PHC string
// in canonical form or its parameters are out of bounds (memory above
// 1 GiB, time above 20, threads above 16, salt not 8..64 bytes, key not
// 16..64 bytes); no work is done for such a string, and ok is false.
func (h *Hasher) Verify(password, phc string) (ok bool, needsRehash bool, err error) {
	p, salt, key, err := decode(phc)
	if err != nil {
		return false, false, err
	}
	got := h.key(password, salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != h.params, nil
}

// VerifyDummy spends the time of one verification with h's parameters and
// discards the result. Call it when a login names a citizen that does not
// exist (or has no password), so response time does not reveal existence.
func (h *Hasher) VerifyDummy(password string) {
	h.dummyOnce.Do(func() {
		// A hash with h's parameters and a fixed salt and key: verifying
		// against it costs exactly one argon2id run, and no password is
		// known to produce an all-zero key. Building it needs no hashing.
		p := h.params
		if p.Validate() != nil {
			p = DefaultParams()
		}
		h.dummy = encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	})
	_, _, _ = h.Verify(password, h.dummy)
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC string strictly: the exact field order and spelling
// that encode produces, decimal numbers without sign or leading zeros, and
// canonical unpadded base64. Bounds are checked before anything is
// allocated in proportion to the parameters.
func decode(phc string) (Params, []byte, []byte, error) {
	fail := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	if len(phc) > maxPHCLen {
		return fail("too long")
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("version is not 19")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m, t, p")
	}
	var m, t, pp uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return fail("want parameters m, t, p in that order")
		}
		n, ok := parseUint32(v)
		if !ok {
			return fail("parameter " + name + " is not a canonical decimal number")
		}
		switch name {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			pp = n
		}
	}
	if pp < 1 || pp > maxThreads {
		return fail("threads out of bounds")
	}
	p := Params{Memory: m, Time: t, Threads: uint8(pp)}
	saltB64, keyB64 := parts[4], parts[5]
	// encoding/base64 skips '\r' and '\n' even in strict mode; refuse
	// anything outside the alphabet so one hash has one spelling.
	if !isB64(saltB64) || !isB64(keyB64) {
		return fail("salt or key has characters outside unpadded standard base64")
	}
	p.SaltLen = uint32(b64.DecodedLen(len(saltB64)))
	p.KeyLen = uint32(b64.DecodedLen(len(keyB64)))
	if err := p.Validate(); err != nil {
		return fail(err.Error())
	}
	salt, err := b64.DecodeString(saltB64)
	if err != nil || uint32(len(salt)) != p.SaltLen {
		return fail("salt is not canonical unpadded base64")
	}
	key, err := b64.DecodeString(keyB64)
	if err != nil || uint32(len(key)) != p.KeyLen {
		return fail("key is not canonical unpadded base64")
	}
	return p, salt, key, nil
}

func isB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// parseUint32 accepts only canonical decimal: digits, no sign, no leading
// zero (except "0"), no more than fits in a uint32.
func parseUint32(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// normalize applies Unicode NFKC before hashing (NIST SP 800-63B
// §5.1.1.2): Vietnamese keyboards (Telex, VNI, phones) produce composed or
// decomposed diacritics for the same typed password, and both must match.
func normalize(password string) []byte { return []byte(norm.NFKC.String(password)) }
