package saml

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"github.com/citizenid/citizenid/internal/keys"
)

// certificate returns the X.509 certificate that carries key k in SAML
// metadata and signatures. internal/keys keeps bare RSA keys; SAML wants
// certificates, and service providers compare them byte for byte. So each
// key's certificate is derived from the key alone, the same on every node
// and every day: self-signed, serial number from the kid, validity from the
// key's creation (an hour earlier, for clocks that lag), and signed with
// RSA PKCS #1 v1.5, which is deterministic. A next key's certificate is
// therefore published, and pinned by service providers, before the key
// signs anything, and stays the same once it does.
//
// Creating it needs the key's private half: the active key's signer, or,
// for a next or retired key, the key opened once from the store.
func (p *Provider) certificate(ctx context.Context, k keys.PublicKey, active *keys.SigningKey) (*x509.Certificate, error) {
	if c, ok := p.certs.Load(k.ID); ok {
		return c.(*x509.Certificate), nil
	}
	var signer crypto.Signer
	if k.ID == active.ID {
		signer = active.Signer
	} else {
		s, err := p.privateKey(ctx, k)
		if err != nil {
			return nil, err
		}
		signer = s
	}
	cert, err := selfSigned(k, signer)
	if err != nil {
		return nil, err
	}
	p.certs.Store(k.ID, cert)
	return cert, nil
}

// selfSigned builds the certificate of key k, signed by signer (k's
// private key).
func selfSigned(k keys.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok || !pub.Equal(signer.Public()) {
		return nil, fmt.Errorf("saml certificate: key %s: the private key does not match", k.ID)
	}
	kid, err := base64.RawURLEncoding.DecodeString(k.ID)
	if err != nil || len(kid) < 16 {
		return nil, fmt.Errorf("saml certificate: key %s: the kid is not a thumbprint", k.ID)
	}
	serial := new(big.Int).SetBytes(kid[:16])
	serial.SetBit(serial, 127, 1) // positive, and never zero
	notBefore := k.CreatedAt.UTC().Truncate(time.Second).Add(-time.Hour)
	name := pkix.Name{
		CommonName:   "CitizenID SAML signing key " + k.ID[:12],
		Organization: []string{"CitizenID"},
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	// rand is not used by PKCS #1 v1.5 signing: the bytes are a function
	// of the key and the template only.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("saml certificate: key %s: %w", k.ID, err)
	}
	return x509.ParseCertificate(der)
}

// privateKey opens the stored private key of a published key that is not
// the active one.
func (p *Provider) privateKey(ctx context.Context, k keys.PublicKey) (crypto.Signer, error) {
	rows, err := p.o.Keys.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if row.ID != k.ID {
			continue
		}
		der, err := p.o.Sealer.Open(row.PrivateKey, []byte(row.ID))
		if err != nil {
			return nil, fmt.Errorf("saml certificate: open key %s: %w", row.ID, err)
		}
		defer clear(der)
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("saml certificate: parse key %s: %w", row.ID, err)
		}
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("saml certificate: key %s is not an RSA key", row.ID)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("saml certificate: key %s is no longer stored", k.ID)
}
