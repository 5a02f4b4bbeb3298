package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
)

// The client_credentials grant (RFC 6749 §4.4) is offered only to
// confidential clients an owner granted admin API scopes: it is how the
// admin API is reached. The token speaks for the client itself; there is
// no citizen and no session behind it.

var _ op.ClientCredentialsStorage = (*storage)(nil)

// clientCredentialsRequest is a client_credentials grant being answered.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }
func (r *clientCredentialsRequest) GetClientID() string   { return r.clientID }
func (r *clientCredentialsRequest) citizenRef() string    { return "" }
func (r *clientCredentialsRequest) sessionRef() string    { return "" }

// ClientCredentials authenticates a client for the client_credentials
// grant: confidential, enabled, granted admin scopes, and presenting its
// secret (or the previous one during a rotation's overlap).
func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		var oe *zoidc.Error
		if errors.As(err, &oe) {
			s.recordCredentials(ctx, clientID, "failure", oe.Description, nil)
			return nil, err
		}
		return nil, zoidc.ErrServerError().WithParent(err)
	}
	if len(c.c.AdminScopes) == 0 || !SecretMatches(c.c, clientSecret, s.p.now()) {
		s.recordCredentials(ctx, clientID, "failure", "client authentication failed", nil)
		return nil, errors.New("client authentication failed")
	}
	return c, nil
}

// ClientCredentialsTokenRequest grants the requested scopes, all of which
// the client must hold; no scope asked means every scope it holds.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(c.c.AdminScopes)
	}
	for _, sc := range scopes {
		if !slices.Contains(c.c.AdminScopes, sc) {
			s.recordCredentials(ctx, clientID, "failure", "scope not granted", scopes)
			return nil, zoidc.ErrInvalidScope().WithDescription("scope %q is not granted to this client", sc)
		}
	}
	s.recordCredentials(ctx, clientID, "success", "", scopes)
	return &clientCredentialsRequest{clientID: clientID, scopes: scopes}, nil
}

func (s *storage) recordCredentials(ctx context.Context, clientID, outcome, reason string, scopes []string) {
	d := map[string]string{}
	if reason != "" {
		d["reason"] = reason
	}
	if len(scopes) > 0 {
		d["scopes"] = strings.Join(scopes, " ")
	}
	if len(clientID) > 256 {
		clientID = clientID[:256]
	}
	s.p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + clientID, Action: "oidc.client_credentials", Target: "client:" + clientID,
		Outcome: outcome, ClientIP: server.ClientIP(ctx), Details: d})
}

// ClientToken is what a verified client_credentials access token says.
type ClientToken struct {
	ClientID string
	Scopes   []string
	Expiry   time.Time
}

// ErrNotClientToken: the bearer token is not a live access token that a
// client obtained for itself.
var ErrNotClientToken = errors.New("not an active client access token")

// VerifyClientToken checks a bearer access token from the client_credentials
// grant: signed by one of our published keys, our issuer, not expired, not
// revoked, and its client still enabled. Tokens issued for a citizen are
// refused. Errors wrap ErrNotClientToken, except failures of the server.
func (p *Provider) VerifyClientToken(ctx context.Context, raw string) (*ClientToken, error) {
	if raw == "" || len(raw) > 8192 {
		return nil, ErrNotClientToken
	}
	vt, err := p.verifyAccessToken(ctx, raw)
	if isUnavailable(err) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotClientToken, err)
	}
	t := vt.t
	if t.CitizenID != "" || t.SessionID != "" || t.ClientID != vt.subject {
		return nil, fmt.Errorf("%w: issued for a citizen", ErrNotClientToken)
	}
	if _, err := p.st.client(ctx, t.ClientID); err != nil {
		var oe *zoidc.Error
		if errors.As(err, &oe) {
			return nil, fmt.Errorf("%w: %s", ErrNotClientToken, oe.Description)
		}
		return nil, err
	}
	return &ClientToken{ClientID: t.ClientID, Scopes: t.Scopes, Expiry: t.Expiry}, nil
}
