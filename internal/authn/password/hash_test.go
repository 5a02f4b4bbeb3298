package password

import (
	"bytes"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// fast are cheap parameters for tests that are not about cost.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestDefaultParams(t *testing.T) {
	got := DefaultParams()
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("got %v, want default params valid", err)
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams(), nil)
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Fatalf("got %q, want match of %s", phc, re)
	}
	other, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if other == phc {
		t.Fatalf("got the same hash twice, want a fresh salt each time")
	}
}

func TestHashDeterministicRand(t *testing.T) {
	// With the salt fixed, the output is the RFC 9106 argon2id of it; two
	// hashers fed the same randomness agree.
	a, err := NewHasher(fast, bytes.NewReader(make([]byte, 16))).Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewHasher(fast, bytes.NewReader(make([]byte, 16))).Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("got %q and %q, want equal for equal salts", a, b)
	}
	if !strings.Contains(a, "$AAAAAAAAAAAAAAAAAAAAAA$") {
		t.Fatalf("got %q, want the injected all-zero salt", a)
	}
}

func TestHashRandError(t *testing.T) {
	_, err := NewHasher(fast, bytes.NewReader(nil)).Hash("pw")
	if err == nil {
		t.Fatal("got nil, want error when randomness fails")
	}
}

func TestHashInvalidParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"zero", Params{}},
		{"time 0", Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"threads 0", Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}},
		{"memory below 8*p", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"memory above 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHasher(tt.p, nil).Hash("pw")
			if err == nil {
				t.Fatalf("got nil, want error for %+v", tt.p)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	h := NewHasher(fast, nil)
	tests := []struct {
		name     string
		password string
		attempt  string
		want     bool
	}{
		{"same", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong", "correct horse battery staple", "correct horse battery stapl", false},
		{"case differs", "Password-of-mine", "password-of-mine", false},
		{"empty attempt", "something long enough", "", false},
		{"unicode", "mật khẩu của tôi", "mật khẩu của tôi", true},
		{"unicode other normalisation (NFKC)", "mật khẩu", "ma\u0323\u0302t khâ\u0309u", true},
		{"trailing space", "abcdefgh ", "abcdefgh", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc, err := h.Hash(tt.password)
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := h.Verify(tt.attempt, phc)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if ok != tt.want {
				t.Errorf("got ok=%v, want %v", ok, tt.want)
			}
			if rehash {
				t.Errorf("got needsRehash=true, want false for unchanged params")
			}
		})
	}
}

func TestVerifyKnownVectors(t *testing.T) {
	// Produced by the reference implementation's CLI (phc-winner-argon2,
	// Debian package argon2), e.g. for the first:
	//   echo -n password | argon2 somesalt -id -t 2 -k 64 -p 1 -l 32 -e
	// They cross-check our encoding and parameters against independent code.
	tests := []struct {
		name string
		p    Params
		phc  string
	}{
		{"small", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
			"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI"},
		{"default params", DefaultParams(),
			"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(tt.p, nil)
			ok, rehash, err := h.Verify("password", tt.phc)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || rehash {
				t.Fatalf("got ok=%v rehash=%v, want true false", ok, rehash)
			}
			if ok, _, _ := h.Verify("Password", tt.phc); ok {
				t.Fatal("got a wrong password accepted, want rejected")
			}
			// The same salt through Hash gives the same string.
			salt, _ := b64.DecodeString(strings.Split(tt.phc, "$")[4])
			got, err := NewHasher(tt.p, bytes.NewReader(salt)).Hash("password")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.phc {
				t.Fatalf("got %q, want %q", got, tt.phc)
			}
		})
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	old := NewHasher(fast, nil)
	phc, err := old.Hash("a fine password")
	if err != nil {
		t.Fatal(err)
	}
	change := func(f func(*Params)) Params {
		p := fast
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", fast, false},
		{"memory", change(func(p *Params) { p.Memory = 128 }), true},
		{"time", change(func(p *Params) { p.Time = 2 }), true},
		{"threads", change(func(p *Params) { p.Threads = 2 }), true},
		{"salt length", change(func(p *Params) { p.SaltLen = 32 }), true},
		{"key length", change(func(p *Params) { p.KeyLen = 64 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := NewHasher(tt.p, nil).Verify("a fine password", phc)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatalf("got ok=false, want true: params of the hash, not the hasher, verify")
			}
			if rehash != tt.want {
				t.Fatalf("got needsRehash=%v, want %v", rehash, tt.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
	const key = "3RuhbbNZ9iD8Zq10JzUxnQvcTQ7kijjr8CxQnKlJn3k"
	tests := []struct {
		name string
		phc  string
	}{
		{"empty", ""},
		{"dollar only", "$"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"plain text", "hunter2"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 019", "$argon2id$v=019$m=64,t=1,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"trailing dollar", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$"},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"param missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + salt + "$" + key},
		{"param spaces", "$argon2id$v=19$m=64, t=1, p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"hex number", "$argon2id$v=19$m=0x40,t=1,p=1$" + salt + "$" + key},
		{"empty number", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key},
		{"uint32 overflow", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"huge number", "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"padded key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "="},
		{"url base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key, "J", "-")},
		{"non-canonical base64 tail", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "l"},
		{"invalid base64 length", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "AA"},
		{"newline", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "\n"},
		{"carriage return inside key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "\r" + key[10:]},
		{"newline inside salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:4] + "\n" + salt[4:] + "$" + key},
		{"too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 300)},
		{"uppercase name", "$ARGON2ID$v=19$m=64,t=1,p=1$" + salt + "$" + key},
	}
	h := NewHasher(fast, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("password", tt.phc)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("got err %v, want ErrMalformedHash", err)
			}
			if ok || rehash {
				t.Fatalf("got ok=%v rehash=%v, want false false", ok, rehash)
			}
		})
	}
}

func TestVerifyHostileParams(t *testing.T) {
	// Each is well-formed but asks for work or memory beyond the bounds. A
	// hash that slipped through would take minutes or gigabytes, so a pass
	// here also shows the bound is checked before any work.
	const salt = "c29tZXNhbHRzb21lc2FsdA"
	const key = "3RuhbbNZ9iD8Zq10JzUxnQvcTQ7kijjr8CxQnKlJn3k"
	tests := []struct {
		name   string
		params string
		salt   string
		key    string
	}{
		{"memory 1 GiB + 1 KiB", "m=1048577,t=1,p=1", salt, key},
		{"memory 4 GiB", "m=4294967295,t=1,p=1", salt, key},
		{"memory below 8 per lane", "m=7,t=1,p=1", salt, key},
		{"memory zero", "m=0,t=1,p=1", salt, key},
		{"time zero", "m=64,t=0,p=1", salt, key},
		{"time 21", "m=64,t=21,p=1", salt, key},
		{"time max uint32", "m=64,t=4294967295,p=1", salt, key},
		{"threads zero", "m=64,t=1,p=0", salt, key},
		{"threads 17", "m=1024,t=1,p=17", salt, key},
		{"threads 255", "m=4096,t=1,p=255", salt, key},
		{"threads 256 wraps uint8", "m=4096,t=1,p=256", salt, key},
		{"threads 257 wraps to 1", "m=4096,t=1,p=257", salt, key},
		{"salt 4 bytes", "m=64,t=1,p=1", "c29tZQ", key},
		{"salt 65 bytes", "m=64,t=1,p=1", strings.Repeat("A", 87), key},
		{"key 8 bytes", "m=64,t=1,p=1", salt, "c29tZXNhbHQ"},
		{"key 96 bytes", "m=64,t=1,p=1", salt, strings.Repeat("A", 128)},
	}
	h := NewHasher(fast, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc := "$argon2id$v=19$" + tt.params + "$" + tt.salt + "$" + tt.key
			ok, _, err := h.Verify("password", phc)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("got err %v, want ErrMalformedHash for %s", err, phc)
			}
			if ok {
				t.Fatal("got ok=true, want false")
			}
		})
	}
}

func TestVerifyAcceptsBounds(t *testing.T) {
	// The largest accepted values are accepted (not run: only parsed).
	phc := encode(Params{Memory: 1 << 20, Time: 20, Threads: 16, SaltLen: 64, KeyLen: 64}, make([]byte, 64), make([]byte, 64))
	p, _, _, err := decode(phc)
	if err != nil {
		t.Fatalf("got %v, want the upper bounds accepted", err)
	}
	if p.Memory != 1<<20 || p.Time != 20 || p.Threads != 16 {
		t.Fatalf("got %+v, want the encoded params", p)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(fast, nil)
	h.VerifyDummy("anything")
	p, _, _, err := decode(h.dummy)
	if err != nil {
		t.Fatalf("got %v, want the dummy hash to parse", err)
	}
	if p != fast {
		t.Fatalf("got dummy params %+v, want the hasher's %+v so the cost matches", p, fast)
	}
	ok, _, _ := h.Verify("anything", h.dummy)
	if ok {
		t.Fatal("got a password accepted by the dummy hash, want none")
	}
}

func FuzzVerify(f *testing.F) {
	// Properties, for any stored string and attempt: no panic; a string the
	// parser refuses is refused by Verify with an error and no work; a string
	// it accepts is within bounds and in canonical form; and the hash of
	// "right" accepts no other password, while no other string accepts
	// "right" (finding one would be an argon2id preimage).
	h := NewHasher(fast, bytes.NewReader(bytes.Repeat([]byte{7}, 16)))
	good, err := h.Hash("right")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "wrong")
	f.Add(good, "")
	f.Add(good, "right")
	f.Add("$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "passwore")
	f.Add("$argon2id$v=19$m=1048577,t=1,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=0$$", "x")
	f.Add("$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, phc, attempt string) {
		p, salt, key, err := decode(phc)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("got %v, want ErrMalformedHash", err)
			}
			ok, rehash, verr := h.Verify(attempt, phc)
			if ok || rehash || verr == nil {
				t.Fatalf("got ok=%v rehash=%v err=%v for a malformed hash, want false false error", ok, rehash, verr)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed params %+v out of bounds: %v", p, err)
		}
		if again := encode(p, salt, key); again != phc {
			t.Fatalf("got re-encoding %q, want %q: the parser accepts non-canonical input", again, phc)
		}
		// Running argon2id is only affordable for cheap parameters.
		if p.Memory > 1024 || p.Time > 2 {
			return
		}
		ok, _, err := h.Verify(attempt, phc)
		if err != nil {
			t.Fatalf("got %v for a string the parser accepted", err)
		}
		if phc == good && ok != (attempt == "right") {
			t.Fatalf("got ok=%v for attempt %q against the hash of \"right\"", ok, attempt)
		}
		if phc != good && attempt == "right" && ok {
			t.Fatalf("got \"right\" accepted by %q, which is not its hash", phc)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams(), nil)
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", phc); !ok || err != nil {
			b.Fatalf("got ok=%v err=%v", ok, err)
		}
	}
}

// No argon2id run starts while GOMAXPROCS others are in flight: a hash
// waits for a slot, and runs as soon as one is free.
func TestHashWaitsForASlot(t *testing.T) {
	h := NewHasher(fast, nil)
	if cap(h.slots) != runtime.GOMAXPROCS(0) {
		t.Fatalf("got %d slots, want GOMAXPROCS (%d)", cap(h.slots), runtime.GOMAXPROCS(0))
	}
	for range cap(h.slots) {
		h.slots <- struct{}{} // every slot busy
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash("a password")
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("a hash ran while every slot was taken")
	case <-time.After(100 * time.Millisecond):
	}
	<-h.slots // one run ends
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(h.slots) != cap(h.slots)-1 {
		t.Fatalf("got %d slots taken after the hash, want %d: a run gives its slot back", len(h.slots), cap(h.slots)-1)
	}
}

func TestHashReturnsMemoryWhenIdle(t *testing.T) {
	h := NewHasher(fast, nil)
	returned := make(chan struct{}, 10)
	h.returnMemory = func() { returned <- struct{}{} }

	// A burst: runs closer together than idleReturn return nothing.
	start := time.Now()
	for range 3 {
		if _, err := h.Hash("a password"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-returned:
		if time.Since(start) < idleReturn {
			t.Fatal("memory returned before the hasher had been idle for idleReturn")
		}
	case <-time.After(idleReturn + 5*time.Second):
		t.Fatal("memory not returned after the hasher went idle")
	}
	select {
	case <-returned:
		t.Fatal("memory returned twice for one idle spell")
	case <-time.After(idleReturn + 500*time.Millisecond):
	}

	// A run still in flight when the timer fires keeps its buffer.
	h.slots <- struct{}{}
	h.idle.Reset(time.Millisecond)
	select {
	case <-returned:
		t.Fatal("memory returned while a run was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	<-h.slots
}

// argon2id is argon2.IDKey bit for bit, over the parameters' range
// (lanes, passes, memory not a multiple of the lanes' sync points, key
// lengths on both sides of H's 64 bytes), in a fresh buffer and in one
// left dirty by another password.
func TestArgon2idIsXCrypto(t *testing.T) {
	cases := []struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{1, 8, 1, 32}, {2, 64, 1, 32}, {3, 67, 1, 16}, {1, 32, 4, 64}, {2, 130, 3, 33},
		{2, 256, 2, 65}, {1, 16, 1, 97}, {1, 16, 1, 100}, {4, 1024, 1, 32}, {2, 19456, 1, 32},
	}
	for _, c := range cases {
		salt := []byte("a salt of 16 b!!")
		want := argon2.IDKey([]byte("the password"), salt, c.time, c.memory, c.threads, c.keyLen)
		if got := argon2id(nil, []byte("the password"), salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("%+v: got %x, want %x", c, got, want)
		}
		buf, unmap := mapBlocks(argon2Blocks(c.memory, c.threads))
		if got := argon2id(buf, []byte("the password"), salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("%+v in a mapped buffer: got %x, want %x", c, got, want)
		}
		other := argon2.IDKey([]byte("another one"), salt, c.time, c.memory, c.threads, c.keyLen)
		if got := argon2id(buf, []byte("another one"), salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, other) {
			t.Fatalf("%+v in a used buffer: got %x, want %x", c, got, other)
		}
		unmap()
	}
}

// A login with the hasher's parameters allocates no argon2id buffer: the
// one the last run kept is reused. A hash stored with other parameters
// gets a buffer of its own, which is not kept; an idle hasher lets its
// buffers go.
func TestHasherKeepsItsBuffer(t *testing.T) {
	h := NewHasher(DefaultParams(), nil)
	h.returnMemory = func() {}
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.kept) != 1 {
		t.Fatalf("kept %d buffers after a run, want 1", len(h.kept))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ok, _, err := h.Verify("correct horse battery staple", phc)
	runtime.ReadMemStats(&after)
	if !ok || err != nil {
		t.Fatalf("verify: %v, %v", ok, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("a verification allocated %d bytes, want far less than argon2id's 19 MiB", n)
	}

	smaller := DefaultParams()
	smaller.Memory = 1024
	old, _ := NewHasher(smaller, nil).Hash("an older password")
	if ok, rehash, err := h.Verify("an older password", old); !ok || !rehash || err != nil {
		t.Fatalf("verify a hash of other parameters: %v, %v, %v", ok, rehash, err)
	}
	if len(h.kept) != 1 || len(h.kept[0].blocks) != 19456 {
		t.Fatalf("kept %d buffers after another size, want the one of 19456 blocks", len(h.kept))
	}

	h.whenIdle()
	if len(h.kept) != 0 {
		t.Errorf("an idle hasher kept %d buffers", len(h.kept))
	}
}
