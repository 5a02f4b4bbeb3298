package oidc

import (
	"context"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/store"
)

// Recorder writes one data-release ledger entry and returns once it is
// durable (internal/ledger.Writer). The provider sends claims only after
// Record returned nil.
type Recorder interface {
	Record(ctx context.Context, e store.LedgerEntry) error
}

// Where claims leave, and where they are recorded:
//   - the ID token, at the token endpoint (authorization_code and refresh
//     grants): SetUserinfoFromRequest fills its claims and records them
//     before returning, so the library signs and writes the response only
//     after the commit. Recording there, rather than after the library
//     has decided the response, keeps the library's token endpoint as it
//     is (no recorder around its output); if a later step fails (signing,
//     deleting the auth request) the entry stands for a token that never
//     left — the harmless direction.
//   - userinfo: SetUserinfoFromToken, likewise before the library writes
//     the answer.
//   - introspection: SetIntrospectionFromToken carries no claims (sub,
//     client_id, scope, exp only), so it releases no personal data and
//     records nothing. Add claims there and a record must come with them.
//
// What is recorded is what the response carries: the attribute kinds whose
// claims were filled, not the scopes asked for. A profile scope for a
// citizen without a birthdate records name and identity_level; an email
// scope without an email records nothing for it. A response that carries
// no personal data at all (openid alone: a pairwise subject and a sid)
// writes no entry.

// releasedAttributes are the attribute kinds info carries.
func releasedAttributes(info *zoidc.UserInfo) []release.Attribute {
	var out []release.Attribute
	add := func(ok bool, a release.Attribute) {
		if ok {
			out = append(out, a)
		}
	}
	_, level := info.Claims[ClaimIdentityLevel]
	_, number := info.Claims[ClaimCitizenNumber]
	_, cert := info.Claims[ClaimCertThumbprint]
	add(info.Name != "", release.Name)
	add(info.Birthdate != "", release.Birthdate)
	add(number, release.CitizenNumber)
	add(level, release.IdentityLevel)
	add(info.Email != "", release.Email)
	add(info.PhoneNumber != "", release.Phone)
	add(cert, release.Certificate)
	return release.Sort(out)
}

// recordRelease writes the ledger entry for claims in info leaving to the
// client c (as fillUserinfo loaded it) through endpoint. An error means the claims must not leave: the
// caller answers server_error, and the cause is logged here, once.
func (s *storage) recordRelease(ctx context.Context, info *zoidc.UserInfo, citizenID string, c *client, sid, acr, endpoint string) error {
	attrs := releasedAttributes(info)
	if len(attrs) == 0 {
		return nil
	}
	clientID := c.c.ID
	level, _ := s.p.o.ACR.Level(acr)
	err := s.p.o.Ledger.Record(ctx, store.LedgerEntry{
		CitizenID:  citizenID,
		Portal:     store.LedgerOIDC + ":" + clientID,
		PortalName: c.c.Name,
		Protocol:   store.LedgerOIDC,
		Endpoint:   endpoint,
		Attributes: release.Strings(attrs),
		Level:      int(level),
		SessionID:  sid,
	})
	if err != nil {
		s.p.o.Log.ErrorContext(ctx, "data release not recorded; refusing it", "endpoint", endpoint, "client", clientID, "err", err)
		return zoidc.ErrServerError().WithDescription("the release could not be recorded; try again later")
	}
	return nil
}
