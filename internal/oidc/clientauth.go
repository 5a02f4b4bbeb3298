package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// Client authentication at the token, introspection, revocation and PAR
// endpoints: a client secret (client_secret_basic or _post, throttled),
// a signed assertion (private_key_jwt: RFC 7523, OpenID Connect Core §9),
// or none for a public client. A client is held to the one method it
// registered.

// AuthPrivateKeyJWT is the private_key_jwt method's name.
const AuthPrivateKeyJWT = string(zoidc.AuthMethodPrivateKeyJWT)

// maxAssertionLifetime bounds exp of a client assertion or request object.
const maxAssertionLifetime = 5 * time.Minute

// jwtLeeway is the clock skew allowed on a client's iat, nbf and exp.
const jwtLeeway = 30 * time.Second

// kindAssertionJTI remembers a client assertion's jti until it expires:
// an assertion is single use.
var kindAssertionJTI = session.NewBucket[bool]("cajti")

// VerifyClient authenticates the client of a token or revocation request.
func (s *opServer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	c, err := s.p.authenticateClient(ctx, r.Data, r.URL.Path, r.Form.Get("grant_type"))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// authenticateClient authenticates the client of a request to endpoint
// (its path). Failures are invalid_client with HTTP 401, or a server
// error when a store failed.
func (p *Provider) authenticateClient(ctx context.Context, cc *op.ClientCredentials, endpoint, grantType string) (*client, error) {
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		c, err := p.verifyClientAssertion(ctx, cc, endpoint)
		if err != nil {
			return nil, clientAuthFailed(err)
		}
		return c, nil
	}
	c, err := p.st.client(ctx, cc.ClientID)
	if err != nil {
		return nil, clientAuthFailed(err)
	}
	switch c.AuthMethod() {
	case zoidc.AuthMethodNone:
		if cc.ClientSecret != "" {
			return nil, clientAuthFailed(zoidc.ErrInvalidClient().WithDescription("a public client has no secret"))
		}
		return c, nil
	case zoidc.AuthMethodPrivateKeyJWT:
		return nil, clientAuthFailed(zoidc.ErrInvalidClient().WithDescription("the client is registered for private_key_jwt"))
	}
	if zoidc.GrantType(grantType) == zoidc.GrantTypeClientCredentials {
		if _, err := p.st.ClientCredentials(ctx, cc.ClientID, cc.ClientSecret); err != nil {
			return nil, clientAuthFailed(err)
		}
		return c, nil
	}
	if err := p.st.AuthorizeClientIDSecret(ctx, cc.ClientID, cc.ClientSecret); err != nil {
		return nil, clientAuthFailed(err)
	}
	return c, nil
}

// clientAuthFailed makes err an invalid_client answered with 401 (RFC
// 6749 §5.2), unless the server failed.
func clientAuthFailed(err error) error {
	var oe *zoidc.Error
	if errors.As(err, &oe) && oe.ErrorType == zoidc.ServerError {
		return op.NewStatusError(oe, http.StatusServiceUnavailable)
	}
	if !errors.As(err, &oe) || oe.ErrorType != zoidc.InvalidClient {
		oe = zoidc.ErrInvalidClient().WithDescription("client authentication failed").WithParent(err)
	}
	return op.NewStatusError(oe, http.StatusUnauthorized)
}

// verifyClientAssertion checks a private_key_jwt assertion: signed by a
// key of the client with an accepted algorithm; iss = sub = client id;
// aud the issuer, the token endpoint or the endpoint called; exp within
// maxAssertionLifetime; jti never seen before.
func (p *Provider) verifyClientAssertion(ctx context.Context, cc *op.ClientCredentials, endpoint string) (*client, error) {
	fail := func(format string, a ...any) error {
		return zoidc.ErrInvalidClient().WithDescription(format, a...)
	}
	if cc.ClientAssertionType != zoidc.ClientAssertionTypeJWTAssertion {
		return nil, fail("client_assertion_type must be %s", zoidc.ClientAssertionTypeJWTAssertion)
	}
	if len(cc.ClientAssertion) > 16<<10 {
		return nil, fail("the client assertion is too long")
	}
	tok, err := jwt.ParseSigned(cc.ClientAssertion, clientkeys.Algorithms)
	if err != nil {
		return nil, fail("the client assertion is not a JWT signed with %s", clientkeys.AlgorithmNames())
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, fail("the client assertion's claims cannot be read")
	}
	id := unverified.Issuer
	if id == "" || unverified.Subject != id || (cc.ClientID != "" && cc.ClientID != id) {
		return nil, fail("the client assertion's iss and sub must both be the client id")
	}
	c, err := p.st.client(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.AuthMethod() != zoidc.AuthMethodPrivateKeyJWT {
		return nil, fail("the client is registered for %s", c.AuthMethod())
	}
	var claims jwt.Claims
	if err := p.verifyClientJWT(ctx, c, tok, &claims); err != nil {
		p.clientAuthAudit(ctx, id, "failure", err.Error())
		return nil, fail("the client assertion's signature does not verify with the client's keys")
	}
	now := p.now()
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: id, Subject: id, Time: now}, jwtLeeway); err != nil {
		p.clientAuthAudit(ctx, id, "failure", err.Error())
		return nil, fail("the client assertion is not valid now: %s", err)
	}
	if !p.audienceIsUs(claims.Audience, endpoint) {
		p.clientAuthAudit(ctx, id, "failure", "wrong audience")
		return nil, fail("the client assertion's aud must be the issuer %s", p.o.Issuer)
	}
	if claims.Expiry == nil || claims.Expiry.Time().After(now.Add(maxAssertionLifetime+jwtLeeway)) {
		return nil, fail("the client assertion needs an exp at most %s ahead", maxAssertionLifetime)
	}
	if claims.ID == "" || len(claims.ID) > 256 {
		return nil, fail("the client assertion needs a jti")
	}
	ttl := claims.Expiry.Time().Sub(now) + jwtLeeway
	if err := kindAssertionJTI.PutNew(ctx, p.o.Sessions, id+"\x00"+claims.ID, true, ttl); errors.Is(err, session.ErrConflict) {
		p.clientAuthAudit(ctx, id, "refused", "assertion replayed")
		return nil, fail("the client assertion was already used")
	} else if err != nil {
		return nil, unavailable(fmt.Errorf("remember a client assertion: %w", err))
	}
	return c, nil
}

// audienceIsUs reports whether aud names this provider: the issuer, the
// token endpoint, or the endpoint the request was sent to.
func (p *Provider) audienceIsUs(aud jwt.Audience, endpoint string) bool {
	for _, a := range aud {
		if a == p.o.Issuer || a == p.o.Issuer+pathToken || (endpoint != "" && a == p.o.Issuer+endpoint) {
			return true
		}
	}
	return false
}

// verifyClientJWT verifies tok with a key of c that fits its algorithm
// (the key named by kid, or any when there is none) and decodes its
// claims into dest.
func (p *Provider) verifyClientJWT(ctx context.Context, c *client, tok *jwt.JSONWebToken, dest ...any) error {
	if len(tok.Headers) != 1 {
		return errors.New("one signature expected")
	}
	h := tok.Headers[0]
	alg := jose.SignatureAlgorithm(h.Algorithm)
	keys, err := p.o.ClientKeys.Keys(ctx, c.c, h.KeyID)
	if err != nil {
		return fmt.Errorf("client keys: %w", err)
	}
	for _, k := range keys {
		if !clientkeys.Fits(k, alg) {
			continue
		}
		if err := tok.Claims(k.Key, dest...); err == nil {
			return nil
		}
	}
	return errors.New("no key of the client verifies the signature")
}

func (p *Provider) clientAuthAudit(ctx context.Context, clientID, outcome, reason string) {
	p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + clientID, Action: "oidc.client_auth", Target: "client:" + clientID,
		Outcome: outcome, ClientIP: server.ClientIP(ctx), Details: map[string]string{"method": AuthPrivateKeyJWT, "reason": truncate(reason, 200)}})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
