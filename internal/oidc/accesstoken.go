package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/store"
)

// Token responses are CitizenID's own: access tokens follow RFC 9068
// (typ at+jwt, aud the resource, client_id, scope, acr, auth_time) so a
// portal's API can demand a level itself (RFC 9470), and they may be
// bound to a DPoP key (RFC 9449: cnf.jkt, token_type DPoP). ID tokens
// carry the library's claims (createIDToken).

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2).
type accessTokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	JWTID    string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	CNF      *cnf     `json:"cnf,omitempty"`
}

// cnf is the confirmation claim of a DPoP-bound token (RFC 9449 §6).
type cnf struct {
	JKT string `json:"jkt"`
}

// accessAudience is the aud of c's access tokens: its configured
// resource, else the client itself.
func (c *client) accessAudience() []string {
	if c.c.AccessTokenAudience != "" {
		return []string{c.c.AccessTokenAudience}
	}
	return []string{c.c.ID}
}

// signAccessToken signs the JWT access token of a sealed jti.
func (p *Provider) signAccessToken(ctx context.Context, c *client, subject, jti string, t *accessTokenID) (string, error) {
	k, err := p.o.Keys.SigningFor(ctx, p.o.Keys.DefaultAlgorithm())
	if err != nil {
		return "", unavailable(err)
	}
	claims := accessTokenClaims{
		Issuer: p.o.Issuer, Subject: subject, Audience: c.accessAudience(),
		Expiry: t.Expiry.Unix(), IssuedAt: t.IssuedAt.Unix(), JWTID: jti, ClientID: c.c.ID,
		Scope: strings.Join(t.Scopes, " "), ACR: t.ACR,
	}
	if !t.AuthTime.IsZero() {
		claims.AuthTime = t.AuthTime.Unix()
	}
	if t.JKT != "" {
		claims.CNF = &cnf{JKT: t.JKT}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	token, err := signJWS(k, "at+jwt", payload)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return token, nil
}

// tokenResponse issues the tokens of req for c: the access token (bound
// to jkt when not empty), a refresh token when the request calls for one
// (rotating current), and an ID token for a citizen's login.
func (p *Provider) tokenResponse(ctx context.Context, req op.TokenRequest, c *client, jkt, code, current string) (*op.Response, error) {
	iss, err := p.st.issue(ctx, req, c, current, jkt)
	if err != nil {
		return nil, err
	}
	// An opaque access token is the sealed reference itself: no
	// signature, and nothing a portal can read.
	access := iss.jti
	if c.c.AccessTokenFormat != store.AccessTokenOpaque {
		access, err = p.signAccessToken(ctx, c, req.GetSubject(), iss.jti, iss.token)
		if err != nil {
			return nil, err
		}
	}
	resp := &zoidc.AccessTokenResponse{
		AccessToken:  access,
		RefreshToken: iss.refresh,
		TokenType:    zoidc.BearerToken,
		ExpiresIn:    uint64(max(iss.token.Expiry.Sub(p.now()), 0) / time.Second),
		Scope:        req.GetScopes(),
	}
	if jkt != "" {
		resp.TokenType = "DPoP"
	}
	if idReq, ok := req.(op.IDTokenRequest); ok && slices.Contains(req.GetScopes(), zoidc.ScopeOpenID) {
		resp.IDToken, err = p.createIDToken(ctx, idReq, c, access, code)
		if err != nil {
			return nil, err
		}
	}
	return op.NewResponse(resp), nil
}

// CodeExchange answers the authorization_code grant.
func (s *opServer) CodeExchange(ctx context.Context, r *op.ClientRequest[zoidc.AccessTokenRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	jkt, err := s.p.tokenDPoP(ctx, r.Header, c, "")
	if err != nil {
		return nil, err
	}
	authReq, err := op.AuthRequestByCode(ctx, s.p.st, r.Data.Code)
	if err != nil {
		return nil, err
	}
	a, ok := authReq.(*authRequest)
	if !ok {
		return nil, zoidc.ErrInvalidGrant()
	}
	if c.c.Public || c.c.FAPI2() || r.Data.CodeVerifier != "" || a.CodeChallenge != "" {
		if a.CodeChallenge == "" {
			return nil, zoidc.ErrInvalidGrant().WithDescription("the authorization request had no PKCE challenge")
		}
		if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, a.GetCodeChallenge()); err != nil {
			return nil, err
		}
	}
	if c.GetID() != a.ClientID {
		return nil, zoidc.ErrInvalidGrant()
	}
	if r.Data.RedirectURI != a.RedirectURI {
		return nil, zoidc.ErrInvalidGrant().WithDescription("redirect_uri does not correspond")
	}
	if a.DPoPJKT != "" && a.DPoPJKT != jkt {
		return nil, zoidc.ErrInvalidGrant().WithDescription("the DPoP key is not the one named by dpop_jkt")
	}
	return s.p.tokenResponse(ctx, a, c, jkt, r.Data.Code, "")
}

// RefreshToken answers the refresh_token grant. A refresh token bound to
// a DPoP key (a public client's) needs a proof of that key.
func (s *opServer) RefreshToken(ctx context.Context, r *op.ClientRequest[zoidc.RefreshTokenRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	req, err := op.RefreshTokenRequestByRefreshToken(ctx, s.p.st, r.Data.RefreshToken)
	if err != nil {
		return nil, err
	}
	rr, ok := req.(*refreshRequest)
	if !ok || c.GetID() != rr.GetClientID() {
		return nil, zoidc.ErrInvalidGrant()
	}
	jkt, err := s.p.tokenDPoP(ctx, r.Header, c, rr.rt.DPoPJKT)
	if err != nil {
		return nil, err
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, rr); err != nil {
		return nil, err
	}
	return s.p.tokenResponse(ctx, rr, c, jkt, "", r.Data.RefreshToken)
}

// ClientCredentialsExchange answers the client_credentials grant.
func (s *opServer) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[zoidc.ClientCredentialsRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	jkt, err := s.p.tokenDPoP(ctx, r.Header, c, "")
	if err != nil {
		return nil, err
	}
	req, err := s.p.st.ClientCredentialsTokenRequest(ctx, c.GetID(), r.Data.Scope)
	if err != nil {
		return nil, err
	}
	return s.p.tokenResponse(ctx, req, c, jkt, "", "")
}

// verifiedToken is a verified, live access token.
type verifiedToken struct {
	t       *accessTokenID
	jti     string
	subject string
}

// verifyAccessToken checks an access token: an opaque one opens under
// the master key; a JWT must be signed by a published key, from our
// issuer, not expired; either must be live (liveAccessToken).
func (p *Provider) verifyAccessToken(ctx context.Context, raw string) (*verifiedToken, error) {
	if raw == "" || len(raw) > 8192 {
		return nil, errors.New("no access token")
	}
	if strings.HasPrefix(raw, jtiPrefix) {
		t, err := p.liveAccessToken(ctx, raw)
		if err != nil {
			return nil, err
		}
		return &verifiedToken{t: t, jti: raw, subject: t.Subject}, nil
	}
	published, err := p.o.Keys.Published(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	claims, err := verifyJWTAccessToken(raw, published, p.atAlgs, p.o.Issuer, p.now())
	if err != nil {
		return nil, err
	}
	t, err := p.liveAccessToken(ctx, claims.JWTID)
	if err != nil {
		return nil, err
	}
	return &verifiedToken{t: t, jti: claims.JWTID, subject: claims.Subject}, nil
}

// Introspect answers token introspection (RFC 7662) for an authenticated
// client, about its own access tokens only: for any other caller a token
// is inactive, so a portal learns nothing of another portal's tokens (nor
// its pairwise subjects). It adds acr, auth_time and the DPoP binding, so
// a portal's API can check them itself, and carries no claims about the
// citizen, so it writes no ledger entry (ledger.go).
func (s *opServer) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	c, err := s.p.authenticateClient(ctx, r.Data.ClientCredentials, pathIntrospect, "")
	if err != nil {
		return nil, err
	}
	inactive := op.NewResponse(&zoidc.IntrospectionResponse{})
	vt, err := s.p.verifyAccessToken(ctx, r.Data.Token)
	if isUnavailable(err) {
		return nil, op.NewStatusError(err, http.StatusServiceUnavailable)
	} else if err != nil || vt.t.ClientID != c.GetID() {
		return inactive, nil
	}
	resp := &zoidc.IntrospectionResponse{
		Active: true, Subject: vt.subject, ClientID: vt.t.ClientID, Scope: vt.t.Scopes,
		Audience: c.accessAudience(), Expiration: zoidc.FromTime(vt.t.Expiry), IssuedAt: zoidc.FromTime(vt.t.IssuedAt),
		TokenType: zoidc.BearerToken, Issuer: s.p.o.Issuer, JWTID: vt.jti,
	}
	resp.Claims = map[string]any{}
	if vt.t.ACR != "" {
		resp.Claims["acr"] = vt.t.ACR
	}
	if !vt.t.AuthTime.IsZero() {
		resp.Claims["auth_time"] = vt.t.AuthTime.Unix()
	}
	if vt.t.JKT != "" {
		resp.TokenType = "DPoP"
		resp.Claims["cnf"] = cnf{JKT: vt.t.JKT}
	}
	return op.NewResponse(resp), nil
}

// idTokenAlg is the algorithm of c's ID tokens (and logout tokens): its
// registered id_token_signed_response_alg, else the server's default.
func (p *Provider) idTokenAlg(c *client) string {
	if c.c.IDTokenSignedResponseAlg != "" {
		return c.c.IDTokenSignedResponseAlg
	}
	return p.o.Keys.DefaultAlgorithm()
}
