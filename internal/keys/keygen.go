package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// The signing algorithms the Manager keeps keys for (JWA names, RFC 7518
// and RFC 8037). Each has keys of its own: a key never signs under two
// algorithms.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA key of Options.RSABits
	PS256 = "PS256" // RSASSA-PSS with SHA-256, RSA key of Options.RSABits
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

// supported lists the algorithms in their canonical order: the order of
// Algorithms() and, within a state, of Published.
var supported = []string{RS256, PS256, ES256, EdDSA}

// SupportedAlgorithms returns the algorithms a Manager can keep keys for,
// RS256 first.
func SupportedAlgorithms() []string { return slices.Clone(supported) }

// ErrAlgorithm: the algorithm is not one this Manager keeps keys for
// (wrapped with the list of those it does).
var ErrAlgorithm = errors.New("keys: signing algorithm not configured")

// CheckAlgorithm returns nil if alg is one of SupportedAlgorithms, and an
// error listing them otherwise.
func CheckAlgorithm(alg string) error {
	if slices.Contains(supported, alg) {
		return nil
	}
	return fmt.Errorf("signing algorithm %q is not supported: want one of %s", alg, strings.Join(supported, ", "))
}

// rank orders algorithms canonically; unknown ones (a hand-edited store)
// come last.
func rank(alg string) int {
	if i := slices.Index(supported, alg); i >= 0 {
		return i
	}
	return len(supported)
}

// newKey generates an RS256 key in state next.
func (m *Manager) newKey(now time.Time) (store.SigningKey, error) {
	return m.newKeyFor(RS256, now)
}

// newKeyFor generates a key for alg in state next, sealed with its kid as
// associated data.
func (m *Manager) newKeyFor(alg string, now time.Time) (store.SigningKey, error) {
	priv, err := m.generate(alg)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new %s signing key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new %s signing key: %w", alg, err)
	}
	defer clear(der)
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new %s signing key: %w", alg, err)
	}
	kid, err := keyID(priv.Public())
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new %s signing key: %w", alg, err)
	}
	sealed, err := m.sealer.Seal(der, []byte(kid))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("new %s signing key: %w", alg, err)
	}
	return store.SigningKey{
		ID:         kid,
		Algorithm:  alg,
		State:      store.KeyNext,
		PublicKey:  pub,
		PrivateKey: sealed,
		CreatedAt:  now,
	}, nil
}

// generate makes a private key of the type alg needs.
func (m *Manager) generate(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256, PS256:
		if m.rsaBits < 2048 {
			return nil, fmt.Errorf("%d-bit RSA is below the 2048-bit minimum", m.rsaBits)
		}
		return rsa.GenerateKey(m.rand, m.rsaBits)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), m.rand)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(m.rand)
		return priv, err
	}
	return nil, CheckAlgorithm(alg)
}

// open decrypts a stored key and checks it belongs to its row: the key
// type is the one its algorithm needs, the public half is the row's, and
// the kid is its thumbprint.
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
	signer, ok := priv.(crypto.Signer)
	if !ok || !fits(r.Algorithm, signer) {
		return nil, fmt.Errorf("open signing key %s: algorithm %s with %T is not supported", r.ID, r.Algorithm, priv)
	}
	pub, err := x509.ParsePKIXPublicKey(r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: parse public key: %w", r.ID, err)
	}
	own := signer.Public()
	kid, err := keyID(own)
	if err != nil || !equalPublic(own, pub) || kid != r.ID {
		return nil, fmt.Errorf("open signing key %s: private key does not match the row's public key or kid", r.ID)
	}
	return &SigningKey{ID: r.ID, Algorithm: r.Algorithm, Signer: signer, Public: own}, nil
}

// fits reports whether key is of the type alg signs with.
func fits(alg string, key crypto.Signer) bool {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return alg == RS256 || alg == PS256
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		return alg == EdDSA
	}
	return false
}

func equalPublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// keyID is the kid of a public key: its RFC 7638 JWK thumbprint.
func keyID(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return thumbprint(k), nil
	case *ecdsa.PublicKey:
		return ecThumbprint(k)
	case ed25519.PublicKey:
		return okpThumbprint(k), nil
	}
	return "", fmt.Errorf("no thumbprint for a %T key", pub)
}

var b64 = base64.RawURLEncoding

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key: SHA-256
// of {"e":…,"kty":"RSA","n":…} (members in that order, no white space,
// unsigned big-endian integers in unpadded base64url), in unpadded
// base64url.
func thumbprint(pub *rsa.PublicKey) string {
	e := minimalBytes(uint64(pub.E))
	return digest(`{"e":"` + b64.EncodeToString(e) + `","kty":"RSA","n":"` + b64.EncodeToString(pub.N.Bytes()) + `"}`)
}

// ecThumbprint is the RFC 7638 thumbprint of a P-256 key:
// {"crv":"P-256","kty":"EC","x":…,"y":…}, coordinates as 32 big-endian
// bytes each (RFC 7518 §6.2.1.2).
func ecThumbprint(pub *ecdsa.PublicKey) (string, error) {
	if pub.Curve != elliptic.P256() {
		return "", fmt.Errorf("no thumbprint for an ECDSA key on %s", pub.Curve.Params().Name)
	}
	pt, err := pub.Bytes() // 0x04 ‖ x ‖ y
	if err != nil {
		return "", fmt.Errorf("ecdsa public key: %w", err)
	}
	if len(pt) != 65 {
		return "", fmt.Errorf("ecdsa public key: %d bytes, want 65", len(pt))
	}
	return digest(`{"crv":"P-256","kty":"EC","x":"` + b64.EncodeToString(pt[1:33]) + `","y":"` + b64.EncodeToString(pt[33:]) + `"}`), nil
}

// okpThumbprint is the RFC 8037 §2 thumbprint of an Ed25519 key:
// {"crv":"Ed25519","kty":"OKP","x":…}.
func okpThumbprint(pub ed25519.PublicKey) string {
	return digest(`{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`)
}

func digest(canonicalJWK string) string {
	sum := sha256.Sum256([]byte(canonicalJWK))
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
