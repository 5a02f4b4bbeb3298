package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/digitorus/pkcs7"
)

func hashOf(alg string) (crypto.Hash, error) {
	switch alg[2:] {
	case "256":
		return crypto.SHA256, nil
	case "384":
		return crypto.SHA384, nil
	case "512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("unknown algorithm %q", alg)
}

// SignedData is hash(origin) ‖ hash(nonce), what a signing component signs.
func SignedData(h crypto.Hash, origin, nonce string) []byte {
	a := h.New()
	a.Write([]byte(origin))
	b := h.New()
	b.Write([]byte(nonce))
	return append(a.Sum(nil), b.Sum(nil)...)
}

// Sign signs hash(origin) ‖ hash(nonce) with key the way a Web eID
// component does for alg (ES256, ES384, RS256, PS256, ...): ECDSA
// signatures as r ‖ s of fixed size.
func Sign(key crypto.Signer, alg, origin, nonce string) ([]byte, error) {
	if len(alg) != 5 {
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	h, err := hashOf(alg)
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(SignedData(h, origin, nonce))
	digest := d.Sum(nil)
	switch alg[:2] {
	case "ES":
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an ECDSA key", alg)
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	case "RS":
		return key.Sign(rand.Reader, digest, h)
	case "PS":
		if _, ok := key.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%s needs an RSA key", alg)
		}
		return key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	return nil, fmt.Errorf("unknown algorithm %q", alg)
}

// TokenJSON is the authentication token a signing component returns.
type TokenJSON struct {
	UnverifiedCertificate string `json:"unverifiedCertificate"`
	Algorithm             string `json:"algorithm"`
	Signature             string `json:"signature"`
	Format                string `json:"format"`
	AppVersion            string `json:"appVersion,omitempty"`
}

// Token returns the JSON authentication token of l for the challenge.
func (l *Leaf) Token(t testing.TB, alg, origin, nonce string) string {
	t.Helper()
	sig, err := Sign(l.Key, alg, origin, nonce)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(TokenJSON{
		UnverifiedCertificate: base64.StdEncoding.EncodeToString(l.Cert.Raw),
		Algorithm:             alg,
		Signature:             base64.StdEncoding.EncodeToString(sig),
		Format:                "web-eid:1.0",
		AppVersion:            "https://citizenid.test/certtest",
	})
	return string(b)
}

// CMSToken returns a token whose signature is a detached CMS SignedData
// (SHA-256) over hash(origin) ‖ hash(nonce).
func (l *Leaf) CMSToken(t testing.TB, origin, nonce string) string {
	t.Helper()
	sd, err := pkcs7.NewSignedData(SignedData(crypto.SHA256, origin, nonce))
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(l.Cert, l.Key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(TokenJSON{
		UnverifiedCertificate: base64.StdEncoding.EncodeToString(l.Cert.Raw),
		Algorithm:             "CMS",
		Signature:             base64.StdEncoding.EncodeToString(der),
		Format:                "web-eid:1.0",
	})
	return string(b)
}
