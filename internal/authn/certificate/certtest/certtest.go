// Package certtest builds a throwaway PKI for tests of certificate login:
// root and intermediate CAs, citizens' certificates of every shape the
// validator must refuse, an OCSP responder and a CRL server on loopback,
// and a software signer that produces Web eID-style authentication tokens.
// It is imported only by tests.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Key generation is the slow part of these tests: RSA keys are made once
// per process and shared.
var (
	cacheMu  sync.Mutex
	rsaCache = map[[2]int]*rsa.PrivateKey{}
)

// RSAKey returns a fresh RSA key of bits (cached per size for speed: tests
// that need two different RSA keys of one size use RSAKeyN).
func RSAKey(t testing.TB, bits int) *rsa.PrivateKey { return RSAKeyN(t, bits, 0) }

// RSAKeyN returns the n-th cached RSA key of bits.
func RSAKeyN(t testing.TB, bits, n int) *rsa.PrivateKey {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if k, ok := rsaCache[[2]int{bits, n}]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	rsaCache[[2]int{bits, n}] = k
	return k
}

// ECKey returns a fresh ECDSA key on curve.
func ECKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// CA is a certification authority of the test PKI.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var serials atomic.Int64

func nextSerial() *big.Int {
	// Large, positive, unique serials, like real CAs issue.
	n := new(big.Int).Lsh(big.NewInt(time.Now().UnixNano()), 32)
	return n.Add(n, big.NewInt(serials.Add(1)))
}

// NewRoot returns a self-signed root CA valid from an hour ago for ten years.
func NewRoot(t testing.TB, name string) *CA {
	t.Helper()
	key := ECKey(t, elliptic.P384())
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"CitizenID Test PKI"}, Country: []string{"VN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: c, Key: key}
}

// CAOptions shape an intermediate CA.
type CAOptions struct {
	NotBefore, NotAfter time.Time
	// ExtKeyUsage, when set, constrains what the CA may issue for.
	ExtKeyUsage []x509.ExtKeyUsage
}

// Intermediate returns a CA issued by ca.
func (ca *CA) Intermediate(t testing.TB, name string, o CAOptions) *CA {
	t.Helper()
	key := ECKey(t, elliptic.P256())
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(5 * 365 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"CitizenID Test PKI"}, Country: []string{"VN"}},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           o.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: c, Key: key}
}

func keyID(pub crypto.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	h := sha1.Sum(der)
	return h[:]
}

// Leaf is a citizen's certificate and its private key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// LeafOptions shape a citizen's certificate. Zero values give a valid
// signature certificate: ECDSA P-256, digitalSignature + nonRepudiation,
// EKU clientAuth, valid from an hour ago for a year.
type LeafOptions struct {
	CommonName   string
	SerialNumber string // subject serialNumber attribute, e.g. "CCCD:001099012345"
	UID          string // subject UID attribute (0.9.2342.19200300.100.1.1)
	Key          crypto.Signer
	KeyUsage     x509.KeyUsage
	NoKeyUsage   bool
	ExtKeyUsage  []x509.ExtKeyUsage
	NoExtKeyUse  bool
	NotBefore    time.Time
	NotAfter     time.Time
	OCSPServer   []string
	CRLs         []string
	DNSNames     []string // for a TLS server certificate
}

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// Issue returns a certificate issued by ca.
func (ca *CA) Issue(t testing.TB, o LeafOptions) *Leaf {
	t.Helper()
	if o.Key == nil {
		o.Key = ECKey(t, elliptic.P256())
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(365 * 24 * time.Hour)
	}
	if o.KeyUsage == 0 && !o.NoKeyUsage {
		o.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	if o.ExtKeyUsage == nil && !o.NoExtKeyUse {
		o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}
	}
	if o.CommonName == "" {
		o.CommonName = "NGUYỄN VĂN AN"
	}
	subj := pkix.Name{CommonName: o.CommonName, SerialNumber: o.SerialNumber, Country: []string{"VN"}}
	if o.UID != "" {
		subj.ExtraNames = append(subj.ExtraNames, pkix.AttributeTypeAndValue{Type: oidUID, Value: o.UID})
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               subj,
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              o.KeyUsage,
		ExtKeyUsage:           o.ExtKeyUsage,
		BasicConstraintsValid: true,
		OCSPServer:            o.OCSPServer,
		CRLDistributionPoints: o.CRLs,
		DNSNames:              o.DNSNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, o.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Leaf{Cert: c, Key: o.Key}
}

// PEM encodes certificates.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// WritePEM writes certificates to dir/name and returns the path.
func WritePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, PEM(certs...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// KeyPEM encodes a private key as PKCS#8 PEM.
func KeyPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
