package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testMasterKey(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func newTestSealer(t testing.TB, b byte) *Sealer {
	t.Helper()
	s, err := NewSealer(testMasterKey(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d bytes): got nil error, want error", n)
		}
	}
	if _, err := NewSealer(make([]byte, 32)); err != nil {
		t.Errorf("NewSealer(32 bytes): got %v, want nil", err)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := newTestSealer(t, 1)
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty", nil, nil},
		{"short", []byte("totp seed"), []byte("citizen:42")},
		{"binary", []byte{0, 1, 2, 255}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 64<<10), []byte("kid")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(sealed), 1+12+len(tt.plaintext)+16; got != want {
				t.Errorf("got %d sealed bytes, want %d", got, want)
			}
			if sealed[0] != 1 {
				t.Errorf("got version byte %d, want 1", sealed[0])
			}
			if len(tt.plaintext) > 0 && bytes.Contains(sealed, tt.plaintext) {
				t.Error("got plaintext visible in the sealed bytes")
			}
			got, err := s.Open(sealed, tt.ad)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("got %x, want %x", got, tt.plaintext)
			}
		})
	}
}

func TestSealFreshNonce(t *testing.T) {
	s := newTestSealer(t, 1)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a[1:13], b[1:13]) || bytes.Equal(a, b) {
		t.Fatal("got the same nonce twice, want a fresh one per Seal")
	}
}

func TestSealInjectedRand(t *testing.T) {
	s := newTestSealer(t, 1)
	s.rand = bytes.NewReader(bytes.Repeat([]byte{9}, 12))
	sealed, err := s.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sealed[1:13], bytes.Repeat([]byte{9}, 12); !bytes.Equal(got, want) {
		t.Fatalf("got nonce %x, want %x", got, want)
	}
	if _, err := s.Seal([]byte("x"), nil); err == nil {
		t.Fatal("got nil error with exhausted randomness, want error")
	}
}

func TestOpenTamper(t *testing.T) {
	s := newTestSealer(t, 1)
	sealed, err := s.Seal([]byte("private key bytes"), []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			if _, err := s.Open(bad, []byte("kid-1")); !errors.Is(err, ErrUnseal) {
				t.Fatalf("byte %d ^ %#x: got %v, want ErrUnseal", i, bit, err)
			}
		}
	}
	// Truncation and extension.
	for _, bad := range [][]byte{sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, err := s.Open(bad, []byte("kid-1")); !errors.Is(err, ErrUnseal) {
			t.Fatalf("len %d: got %v, want ErrUnseal", len(bad), err)
		}
	}
}

func TestOpenWrongContext(t *testing.T) {
	s := newTestSealer(t, 1)
	sealed, err := s.Seal([]byte("secret"), []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		sealer *Sealer
		ad     []byte
	}{
		{"wrong associated data", s, []byte("kid-2")},
		{"no associated data", s, nil},
		{"associated data prefix", s, []byte("kid-")},
		{"wrong master key", newTestSealer(t, 2), []byte("kid-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.sealer.Open(sealed, tt.ad); !errors.Is(err, ErrUnseal) {
				t.Fatalf("got %v, want ErrUnseal", err)
			}
		})
	}
}

func TestOpenShortInput(t *testing.T) {
	s := newTestSealer(t, 1)
	tests := []struct {
		name   string
		sealed []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"version only", []byte{1}},
		{"version and nonce", append([]byte{1}, make([]byte, 12)...)},
		{"one byte short of a tag", append([]byte{1}, make([]byte, 12+15)...)},
		{"empty plaintext, zero tag", append([]byte{1}, make([]byte, 12+16)...)},
		{"version 0", append([]byte{0}, make([]byte, 12+16)...)},
		{"version 2", append([]byte{2}, make([]byte, 12+16)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Open(tt.sealed, nil); !errors.Is(err, ErrUnseal) {
				t.Fatalf("got %v, want ErrUnseal", err)
			}
		})
	}
}

func TestParseMasterKey(t *testing.T) {
	// Bytes chosen so the base64 alphabets differ (+/ versus -_).
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0xfb + i*7)
	}
	std := base64.StdEncoding.EncodeToString(key)
	url := base64.URLEncoding.EncodeToString(key)
	if !strings.ContainsAny(std, "+/") || !strings.ContainsAny(url, "-_") {
		t.Fatalf("test key does not exercise both alphabets: %s %s", std, url)
	}
	good := []struct {
		name string
		in   string
	}{
		{"std padded", std},
		{"std raw", strings.TrimRight(std, "=")},
		{"url padded", url},
		{"url raw", strings.TrimRight(url, "=")},
		{"hex lower", hex.EncodeToString(key)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key))},
		{"surrounding white space", "  " + std + "\n"},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.in)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("got %x, want %x", got, key)
			}
		})
	}
	bad := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"spaces", "   "},
		{"31 bytes base64", base64.StdEncoding.EncodeToString(key[:31])},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(key, 1))},
		{"16 bytes base64", base64.StdEncoding.EncodeToString(key[:16])},
		{"62 hex", hex.EncodeToString(key[:31])},
		{"66 hex", hex.EncodeToString(append(key, 1))},
		{"64 non-hex", strings.Repeat("g", 64)},
		{"mixed alphabets", strings.TrimRight(std, "=")[:40] + "-_" + "A"},
		{"inner space", std[:20] + " " + std[20:]},
		{"passphrase", "correct horse battery staple and more words to reach"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMasterKey(tt.in)
			if err == nil {
				t.Fatal("got nil error, want error")
			}
			if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
				t.Fatalf("got error %q containing the key material, want it never echoed", err)
			}
		})
	}
}

func TestLoadOrCreateMasterKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "secrets")
	path := filepath.Join(dir, "master.key")

	key, created, err := LoadOrCreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != 32 {
		t.Fatalf("got created=%v len=%d, want true 32", created, len(key))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got file mode %v, want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("got dir mode %v, want 0700", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("got %d files in the key dir, want 1 (no temporary file left)", len(entries))
	}

	again, created, err := LoadOrCreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Fatalf("got created=%v same=%v, want false true", created, bytes.Equal(again, key))
	}
	if _, err := NewSealer(key); err != nil {
		t.Fatalf("got %v, want the key usable", err)
	}
}

func TestLoadMasterKeyFileExisting(t *testing.T) {
	dir := t.TempDir()
	key := testMasterKey(7)
	tests := []struct {
		name    string
		content string
		want    []byte
	}{
		{"base64 with newline", base64.StdEncoding.EncodeToString(key) + "\n", key},
		{"hex", hex.EncodeToString(key), key},
		{"corrupt", "not a key\n", nil},
		{"empty", "", nil},
		{"too large", strings.Repeat("A", 5000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, created, err := LoadOrCreateMasterKeyFile(path)
			if created {
				t.Fatal("got created=true for an existing file, want false")
			}
			if tt.want == nil {
				if err == nil {
					t.Fatal("got nil error, want error")
				}
				b, _ := os.ReadFile(path)
				if string(b) != tt.content {
					t.Fatal("got the existing file changed, want it left alone")
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, %v, want %x, nil", got, err, tt.want)
			}
		})
	}
}

func TestLoadOrCreateMasterKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], created[i], errs[i] = LoadOrCreateMasterKeyFile(path) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: got %v, want nil", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d: got a different key, want every caller to agree", i)
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("got %d creators, want 1", creators)
	}
}

func TestLoadOrCreateMasterKeyFileUnreadable(t *testing.T) {
	// A path under a regular file can be neither read nor created: an
	// error, not a key.
	base := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(base, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreateMasterKeyFile(filepath.Join(base, "master.key"))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a creation error", err)
	}
}
