package certificate

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // SHA-384 and SHA-512 for hashFor
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/digitorus/pkcs7"
)

// MaxTokenBytes bounds the authentication token a browser posts: a
// certificate and a signature (or a CMS structure with a few certificates)
// fit easily.
const MaxTokenBytes = 64 << 10

// AlgorithmCMS marks a token whose signature is a detached CMS/PKCS#7
// SignedData over hash(origin) ‖ hash(nonce), both hashes SHA-256.
const AlgorithmCMS = "CMS"

// Token is the authentication token a signing component returns, in the
// shape of the Web eID authentication token format (web-eid:1): the
// component signed hash(origin) ‖ hash(nonce) with the certificate's key.
type Token struct {
	Certificate *x509.Certificate
	Algorithm   string // ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, or CMS
	Signature   []byte
	Format      string
	AppVersion  string
}

type tokenJSON struct {
	UnverifiedCertificate string `json:"unverifiedCertificate"`
	Algorithm             string `json:"algorithm"`
	Signature             string `json:"signature"`
	Format                string `json:"format"`
	AppVersion            string `json:"appVersion"`
}

// errToken is wrapped by every ParseToken error.
var errToken = errors.New("token malformed")

// ParseToken parses a posted authentication token. It checks the shape
// only: the signature and the certificate are checked by Verify and the
// Validator.
func ParseToken(b []byte) (*Token, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errToken)
	}
	if len(b) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", errToken, MaxTokenBytes)
	}
	var raw tokenJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", errToken, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", errToken)
	}
	if raw.Format != "web-eid:1" && !strings.HasPrefix(raw.Format, "web-eid:1.") {
		return nil, fmt.Errorf("%w: format %.20q is not web-eid:1", errToken, raw.Format)
	}
	if !knownAlgorithm(raw.Algorithm) {
		return nil, fmt.Errorf("%w: algorithm %.10q is not supported", errToken, raw.Algorithm)
	}
	der, err := decodeBase64(raw.UnverifiedCertificate)
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("%w: unverifiedCertificate is not base64", errToken)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: unverifiedCertificate: %v", errToken, err)
	}
	sig, err := decodeBase64(raw.Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: signature is not base64", errToken)
	}
	return &Token{Certificate: cert, Algorithm: raw.Algorithm, Signature: sig, Format: raw.Format, AppVersion: raw.AppVersion}, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func knownAlgorithm(a string) bool {
	switch a {
	case "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", AlgorithmCMS:
		return true
	}
	return false
}

func hashFor(alg string) crypto.Hash {
	switch {
	case strings.HasSuffix(alg, "256"):
		return crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		return crypto.SHA384
	case strings.HasSuffix(alg, "512"):
		return crypto.SHA512
	}
	return crypto.SHA256 // CMS
}

// SignedData is what a signing component signs for a challenge:
// hash(origin) ‖ hash(nonce), with the algorithm's hash.
func SignedData(h crypto.Hash, origin, nonce string) []byte {
	a, b := h.New(), h.New()
	a.Write([]byte(origin))
	b.Write([]byte(nonce))
	return append(a.Sum(nil), b.Sum(nil)...)
}

// errSignature is returned by Verify when the signature does not verify.
var errSignature = errors.New("signature does not verify over this origin and nonce")

// Verify checks the token's signature over hash(origin) ‖ hash(nonce)
// with the key of the token's certificate. It does not look at the
// certificate otherwise.
func (t *Token) Verify(origin, nonce string) error {
	if t.Algorithm == AlgorithmCMS {
		return t.verifyCMS(SignedData(crypto.SHA256, origin, nonce))
	}
	h := hashFor(t.Algorithm)
	d := h.New()
	d.Write(SignedData(h, origin, nonce))
	digest := d.Sum(nil)
	switch pub := t.Certificate.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !strings.HasPrefix(t.Algorithm, "ES") {
			return fmt.Errorf("algorithm %s does not fit an ECDSA key", t.Algorithm)
		}
		if !verifyECDSA(pub, digest, t.Signature) {
			return errSignature
		}
	case *rsa.PublicKey:
		var err error
		switch t.Algorithm[:2] {
		case "RS":
			err = rsa.VerifyPKCS1v15(pub, h, digest, t.Signature)
		case "PS":
			err = rsa.VerifyPSS(pub, h, digest, t.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: h})
		default:
			return fmt.Errorf("algorithm %s does not fit an RSA key", t.Algorithm)
		}
		if err != nil {
			return errSignature
		}
	default:
		return fmt.Errorf("unsupported public key %T", pub)
	}
	return nil
}

// verifyECDSA accepts r ‖ s of the curve's size (as Web eID and WebCrypto
// produce) or an ASN.1 signature.
func verifyECDSA(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) == 2*size {
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	var parsed struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &parsed); err != nil || len(rest) > 0 || parsed.R == nil || parsed.S == nil {
		return false
	}
	return ecdsa.VerifyASN1(pub, digest, sig)
}

// Digest algorithms a CMS signer may use; SHA-1 and MD5 are refused.
var cmsDigests = []asn1.ObjectIdentifier{
	pkcs7.OIDDigestAlgorithmSHA256, pkcs7.OIDDigestAlgorithmSHA384, pkcs7.OIDDigestAlgorithmSHA512,
}

// verifyCMS checks a detached SignedData over data, made by the token's
// certificate. Only the signature is checked here: pkcs7's Verify checks no
// chain, and its VerifyWithChain would trust the signer-chosen signing
// time, so the Validator checks the certificate at the current time.
func (t *Token) verifyCMS(data []byte) error {
	p7, err := pkcs7.Parse(t.Signature)
	if err != nil {
		return fmt.Errorf("cms: %w", err)
	}
	if len(p7.Signers) != 1 {
		return fmt.Errorf("cms: want one signer, got %d", len(p7.Signers))
	}
	si := p7.Signers[0]
	digestOK := false
	for _, oid := range cmsDigests {
		digestOK = digestOK || si.DigestAlgorithm.Algorithm.Equal(oid)
	}
	if !digestOK {
		return fmt.Errorf("cms: digest algorithm %v is not allowed", si.DigestAlgorithm.Algorithm)
	}
	if len(p7.Content) > 0 && !bytes.Equal(p7.Content, data) {
		return errSignature // attached content that is not the challenge
	}
	if si.IssuerAndSerialNumber.SerialNumber == nil || si.IssuerAndSerialNumber.SerialNumber.Cmp(t.Certificate.SerialNumber) != 0 ||
		!bytes.Equal(si.IssuerAndSerialNumber.IssuerName.FullBytes, t.Certificate.RawIssuer) {
		return errors.New("cms: the signer is not the token's certificate")
	}
	var contentType asn1.ObjectIdentifier
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeContentType, &contentType); err == nil && !contentType.Equal(pkcs7.OIDData) {
		return fmt.Errorf("cms: content type %v is not data", contentType)
	}
	// Verify against the token's certificate only, never one the CMS
	// structure brings along.
	p7.Content = data
	p7.Certificates = []*x509.Certificate{t.Certificate}
	if err := p7.Verify(); err != nil {
		return errSignature
	}
	return nil
}

// Thumbprint is the base64url SHA-256 of the certificate (x5t#S256).
func Thumbprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SPKIThumbprint is the base64url SHA-256 of the certificate's
// SubjectPublicKeyInfo: it survives a renewal that keeps the key.
func SPKIThumbprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SerialHex is the certificate's serial number in upper-case hex.
func SerialHex(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(c.SerialNumber.Text(16))
}
