package certificate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Profile is what a citizen's certificate must be, beyond chaining to a
// trust anchor.
type Profile struct {
	// KeyUsage: the certificate's key usage must include at least one of
	// these (digitalSignature, nonRepudiation). A certificate without the
	// key usage extension is refused.
	KeyUsage []x509.KeyUsage
	// MinRSABits is the smallest RSA modulus accepted (at least 2048).
	MinRSABits int
	// Curves are the ECDSA curves accepted.
	Curves []elliptic.Curve
}

// DefaultProfile is digitalSignature or nonRepudiation, RSA ≥ 2048,
// ECDSA P-256 or P-384.
func DefaultProfile() Profile {
	return Profile{
		KeyUsage:   []x509.KeyUsage{x509.KeyUsageDigitalSignature, x509.KeyUsageContentCommitment},
		MinRSABits: 2048,
		Curves:     []elliptic.Curve{elliptic.P256(), elliptic.P384()},
	}
}

// ParseKeyUsage reads a configured key usage name.
func ParseKeyUsage(s string) (x509.KeyUsage, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "_", "")) {
	case "digitalsignature":
		return x509.KeyUsageDigitalSignature, nil
	case "nonrepudiation", "contentcommitment":
		return x509.KeyUsageContentCommitment, nil
	}
	return 0, fmt.Errorf("key usage %q: digital_signature or non_repudiation", s)
}

// ParseCurve reads a configured curve name.
func ParseCurve(s string) (elliptic.Curve, error) {
	switch strings.ToUpper(s) {
	case "P-256", "P256":
		return elliptic.P256(), nil
	case "P-384", "P384":
		return elliptic.P384(), nil
	}
	return nil, fmt.Errorf("curve %q: P-256 or P-384", s)
}

// checkValidity refuses a certificate outside its validity at now.
func checkValidity(c *x509.Certificate, now time.Time) *Refusal {
	switch {
	case now.After(c.NotAfter):
		return refuse(msgExpired, "certificate expired on %s", c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return refuse(msgNotYetValid, "certificate not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// check refuses a certificate whose usage or key the profile does not allow.
func (p Profile) check(c *x509.Certificate) *Refusal {
	if c.IsCA {
		return refuse(msgUsage, "certificate is a CA certificate")
	}
	ok := false
	for _, ku := range p.KeyUsage {
		ok = ok || c.KeyUsage&ku != 0
	}
	if !ok {
		return refuse(msgUsage, "key usage %s lacks digitalSignature and nonRepudiation", keyUsageString(c.KeyUsage))
	}
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
			return refuse(msgUsage, "extended key usage present without clientAuth")
		}
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		min := max(p.MinRSABits, 2048)
		if k.N.BitLen() < min {
			return refuse(msgKey, "RSA key of %d bits, below %d", k.N.BitLen(), min)
		}
	case *ecdsa.PublicKey:
		if !slices.ContainsFunc(p.Curves, func(cv elliptic.Curve) bool { return cv == k.Curve }) {
			return refuse(msgKey, "ECDSA curve %s is not allowed", k.Curve.Params().Name)
		}
	default:
		return refuse(msgKey, "public key algorithm %s is not allowed", c.PublicKeyAlgorithm)
	}
	return nil
}

func keyUsageString(ku x509.KeyUsage) string {
	if ku == 0 {
		return "(none)"
	}
	names := []string{"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}
