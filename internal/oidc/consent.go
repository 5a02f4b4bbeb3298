package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// portalPrefix qualifies a client ID into the key consents are kept
// under (login.Request.Portal).
const portalPrefix = Protocol + ":"

// Portal is the consent key of a client.
func Portal(clientID string) string { return portalPrefix + clientID }

// releases is what the scopes release to c: the standard scopes, and the
// extra ones only when the client is allowed them (else they release
// nothing, so nothing is asked).
func releases(c *store.Client, scopes []string) []release.Attribute {
	return release.ForScopes(scopes, func(s string) bool {
		switch s {
		case zoidc.ScopeProfile, zoidc.ScopeEmail, zoidc.ScopePhone:
			return true
		}
		return slices.Contains(c.Scopes, s)
	})
}

// kindWithdrawn marks, per citizen and client, when the citizen withdrew
// consent: access tokens issued before it are inactive. It lives as long
// as an access token can.
var kindWithdrawn = session.NewBucket[int64]("withdrawn")

func withdrawnKey(citizenID, clientID string) string {
	return session.Hash(citizenID + "\x00" + clientID)
}

// RevokePortal ends what the citizen's withdrawal of consent from the
// portal ends: the client's refresh tokens, and its access tokens at once.
// Portals of other protocols are ignored.
func (p *Provider) RevokePortal(ctx context.Context, citizenID, portal string) error {
	clientID, ok := strings.CutPrefix(portal, portalPrefix)
	if !ok {
		return nil
	}
	now := p.now()
	if err := kindWithdrawn.Put(ctx, p.o.Sessions, withdrawnKey(citizenID, clientID), now.UnixNano(), p.longestAccessToken()); err != nil {
		return fmt.Errorf("mark access tokens withdrawn: %w", err)
	}
	if err := p.o.Store.RevokeRefreshTokensForClient(ctx, citizenID, clientID, now); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// withdrawnAfter reports whether the citizen withdrew consent from the
// token's client after the token was issued.
func (p *Provider) withdrawnAfter(ctx context.Context, t *accessTokenID) (bool, error) {
	var mark int64
	err := kindWithdrawn.Load(ctx, p.o.Sessions, withdrawnKey(t.CitizenID, t.ClientID), &mark)
	if errors.Is(err, session.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	// A token without an issue time predates the marker.
	return t.IssuedAt.IsZero() || t.IssuedAt.UnixNano() <= mark, nil
}
