package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length of the master key in bytes (AES-256).
const MasterKeySize = 32

const (
	sealVersion   = 1
	nonceSize     = 12
	tagSize       = 16
	sealOverhead  = 1 + nonceSize + tagSize
	maxKeyFileLen = 4096
)

// ErrUnseal is returned (wrapped) by Open when sealed data does not open:
// it was altered, truncated, sealed under another master key or with other
// associated data, or has an unknown format version.
var ErrUnseal = errors.New("keys: sealed data does not open")

// Sealer encrypts and authenticates secrets at rest under the master key.
// It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
	rand io.Reader // nonces
}

// NewSealer returns a Sealer for masterKey, which must be exactly 32 bytes.
// The Sealer keeps the expanded AES key, not masterKey itself.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("new sealer: master key is %d bytes, want %d", len(masterKey), MasterKeySize)
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead, rand: rand.Reader}, nil
}

// Seal encrypts plaintext bound to associatedData and returns
// version ‖ nonce ‖ ciphertext ‖ tag with a fresh random nonce.
// Random 96-bit nonces are safe for far more values than CitizenID will
// ever seal under one master key (NIST SP 800-38D: 2^32).
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, sealOverhead+len(plaintext))
	out[0] = sealVersion
	if _, err := io.ReadFull(s.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, associatedData), nil
}

// Open authenticates and decrypts what Seal returned for the same
// associatedData. Any failure wraps [ErrUnseal].
func (s *Sealer) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("open: %d bytes is shorter than the %d-byte minimum: %w", len(sealed), sealOverhead, ErrUnseal)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("open: unknown format version %d: %w", sealed[0], ErrUnseal)
	}
	nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	pt, err := s.aead.Open(nil, nonce, ct, associatedData)
	if err != nil {
		return nil, fmt.Errorf("open: wrong master key, wrong associated data or altered data: %w", ErrUnseal)
	}
	return pt, nil
}

// ParseMasterKey decodes a master key given as base64 (standard or URL
// alphabet, padded or not) or as 64 hexadecimal characters; surrounding
// white space is ignored. The result must be exactly 32 bytes. Errors never
// contain the input.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("parse master key: empty")
	}
	// 64 characters of hex are also valid base64 (of 48 bytes), so hex
	// is tried first; 32 bytes of base64 are 43 or 44 characters, never 64.
	if len(s) == 2*MasterKeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.Strict().DecodeString(s)
		if err == nil && len(key) == MasterKeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("parse master key: want %d bytes as base64 or %d hex characters", MasterKeySize, 2*MasterKeySize)
}

// LoadOrCreateMasterKeyFile reads the master key from path (base64 or hex,
// as ParseMasterKey). If the file does not exist it creates it with a new
// random key, mode 0600, creating the parent directory with mode 0700 if
// needed, and reports created. Two processes racing to create the file
// end up with the same key: the file appears complete or not at all.
//
// Only embedded/dev mode uses this; production passes the key in through
// configuration or the environment.
func LoadOrCreateMasterKeyFile(path string) (key []byte, created bool, err error) {
	key, err = readMasterKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, MasterKeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	// Write a temporary file (CreateTemp makes it 0600), then hard-link it
	// into place: the link fails if path exists, so a concurrent creator's
	// key is never overwritten, and readers never see a partial file.
	tmp, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, false, fmt.Errorf("create master key file: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			key, err := readMasterKeyFile(path)
			return key, false, err
		}
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	return key, true, nil
}

func readMasterKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileLen+1))
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if len(b) > maxKeyFileLen {
		return nil, fmt.Errorf("read master key file %s: larger than %d bytes", path, maxKeyFileLen)
	}
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	return key, nil
}
