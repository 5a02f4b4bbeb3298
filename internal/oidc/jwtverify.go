package oidc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/keys"
)

// A JWT access token is one of ours: compact JWS, typ at+jwt, signed with
// a published key of a configured algorithm, named by its kid. Checking it
// needs none of a generic JOSE library's generality (JWE, JSON
// serialization, several signatures, embedded keys), which cost a
// userinfo or introspection request more than the signature itself and
// most of what it allocated. verifyJWTAccessToken checks what
// op.VerifyAccessToken checked (issuer, signature, expiry) and, as RFC 9068
// §4 asks of a resource server, the typ.

// errJWT is every refusal of a JWT access token: the caller learns
// nothing more than "not a valid token", as with the library before.
var errJWT = errors.New("invalid access token")

// jwsHeader is what the protected header of our tokens holds. Crit and
// B64 are decoded only to be refused: our tokens never have them.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// jwtClaims are the claims checked here; the rest is in the sealed jti.
type jwtClaims struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Expiry  int64  `json:"exp"`
	JWTID   string `json:"jti"`
}

// b64 decodes base64url without padding, refusing non-zero trailing
// bits, so that one token has one spelling.
var b64 = base64.RawURLEncoding.Strict()

// verifyJWTAccessToken checks raw against the published keys, for the
// algorithms in algs, the issuer iss and the time now, and returns its
// claims.
func verifyJWTAccessToken(raw string, published []keys.PublicKey, algs []string, iss string, now time.Time) (*jwtClaims, error) {
	h, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return nil, errJWT
	}
	var hdr jwsHeader
	if err := decodeJSONPart(h, &hdr); err != nil {
		return nil, errJWT
	}
	if hdr.Crit != nil || hdr.B64 != nil || hdr.Kid == "" || !slices.Contains(algs, hdr.Alg) ||
		strings.TrimPrefix(strings.ToLower(hdr.Typ), "application/") != "at+jwt" {
		return nil, errJWT
	}
	i := slices.IndexFunc(published, func(k keys.PublicKey) bool { return k.ID == hdr.Kid })
	if i < 0 || published[i].Algorithm != hdr.Alg {
		return nil, errJWT
	}
	signature, err := b64.DecodeString(sig)
	if err != nil || !verifyJWS(hdr.Alg, published[i].Key, raw[:len(h)+1+len(payload)], signature) {
		return nil, errJWT
	}
	var c jwtClaims
	if err := decodeJSONPart(payload, &c); err != nil {
		return nil, errJWT
	}
	if c.Issuer != iss || !now.Before(time.Unix(c.Expiry, 0)) || c.JWTID == "" {
		return nil, errJWT
	}
	return &c, nil
}

// decodeJSONPart decodes one base64url part of a compact JWS into v. A
// part must be one JSON object and nothing after it.
func decodeJSONPart(part string, v any) error {
	b, err := b64.DecodeString(part)
	if err != nil {
		return err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errJWT
	}
	return json.Unmarshal(b, v)
}

// verifyJWS checks sig over input for alg (RFC 7518 §3, RFC 8037) with
// pub, which must be the key type alg names.
func verifyJWS(alg string, pub crypto.PublicKey, input string, sig []byte) bool {
	switch alg {
	case "RS256", "PS256":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return false
		}
		sum := sha256.Sum256([]byte(input))
		if alg == "RS256" {
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
		}
		return rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case "ES256":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() || len(sig) != 64 {
			return false
		}
		sum := sha256.Sum256([]byte(input))
		return ecdsa.Verify(k, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case "EdDSA":
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, []byte(input), sig)
	}
	return false
}
