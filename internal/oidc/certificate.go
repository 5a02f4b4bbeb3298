package oidc

import (
	"context"
	"slices"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
)

// Claims of certificate login, under scope "certificate": the thumbprint
// (base64url SHA-256, as x5t#S256) and serial (hex) of the certificate the
// citizen logged in with in this SSO session, so a portal can tie
// documents signed later to this login. A certificate identifies the
// citizen across portals, so only clients configured for the scope get them.
const (
	ScopeCertificate      = "certificate"
	ClaimCertThumbprint   = "cert_thumbprint"
	ClaimCertSerial       = "cert_serial"
	certificateEventLevel = 4
)

// certificateClaims adds the claims when the scope was granted to a client
// configured for it and the session (sid) holds a certificate login of the
// citizen. A session that ended, or holds none, adds nothing.
func (s *storage) certificateClaims(ctx context.Context, info *zoidc.UserInfo, citizenID, clientID, sid string, scopes []string) error {
	if sid == "" || !slices.Contains(scopes, ScopeCertificate) {
		return nil
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return err
	}
	if !slices.Contains(c.c.Scopes, ScopeCertificate) {
		return nil
	}
	sess, err := s.p.o.Sessions.BySID(ctx, sid)
	if err != nil || sess.CitizenID != citizenID {
		return nil
	}
	for i := len(sess.Events) - 1; i >= 0; i-- {
		if ev := sess.Events[i]; ev.CertThumbprint != "" && ev.Level >= certificateEventLevel {
			info.AppendClaims(ClaimCertThumbprint, ev.CertThumbprint)
			info.AppendClaims(ClaimCertSerial, ev.CertSerial)
			return nil
		}
	}
	return nil
}
