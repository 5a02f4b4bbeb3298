package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
)

// Validator decides whether a certificate may log a citizen in at level 4:
// valid now, fitting the profile, chaining to a configured anchor at the
// current time for client authentication, and not revoked.
type Validator struct {
	Trust      *trust.Set
	Profile    Profile
	Revocation *Revocation
	Now        func() time.Time
}

// Validated is a certificate the Validator accepted.
type Validated struct {
	Leaf     *x509.Certificate
	Issuer   *x509.Certificate
	Chain    []*x509.Certificate
	Evidence Evidence
}

// Validate checks leaf; presented are intermediates the client sent along
// (they still have to chain to a configured anchor). A refusal is a
// *Refusal; its Evidence, if a revocation check ran, is in the returned
// Validated (which is otherwise nil on refusal).
func (v *Validator) Validate(ctx context.Context, leaf *x509.Certificate, presented []*x509.Certificate) (*Validated, error) {
	now := v.Now()
	if r := checkValidity(leaf, now); r != nil {
		return nil, r
	}
	if r := v.Profile.check(leaf); r != nil {
		return nil, r
	}
	inters := v.Trust.Intermediates
	if len(presented) > 0 {
		inters = inters.Clone()
		for _, c := range presented {
			inters.AddCert(c)
		}
	}
	// KeyUsages must be set: an empty list means server authentication.
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.Trust.Roots,
		Intermediates: inters,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, chainRefusal(err)
	}
	chain := chains[0]
	issuer := chain[1]
	ev, r := v.Revocation.Check(ctx, leaf, issuer, v.Trust.Policy(issuer))
	out := &Validated{Leaf: leaf, Issuer: issuer, Chain: chain, Evidence: ev}
	if r != nil {
		return out, r
	}
	return out, nil
}

func chainRefusal(err error) *Refusal {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return refuse(msgUntrusted, "unknown issuer: the certificate does not chain to a trust anchor")
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		switch ci.Reason {
		case x509.Expired:
			return refuse(msgUntrusted, "chain invalid: a CA certificate is expired or not yet valid")
		case x509.IncompatibleUsage:
			return refuse(msgUsage, "chain invalid: a CA may not issue client-authentication certificates")
		case x509.NotAuthorizedToSign:
			return refuse(msgUntrusted, "chain invalid: the issuer is not a CA")
		}
		return refuse(msgUntrusted, "chain invalid: %v", ci.Reason)
	}
	return refuse(msgUntrusted, "chain invalid")
}
