package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// accessTokenID is what the jti of an access token carries, sealed with
// the master key: userinfo and introspection read it back without a write
// per token, and portals learn nothing from it.
type accessTokenID struct {
	Nonce     string    `json:"n"`
	CitizenID string    `json:"c"`
	ClientID  string    `json:"cl"`
	SessionID string    `json:"sid,omitempty"`
	Scopes    []string  `json:"s"`
	Expiry    time.Time `json:"exp"`
	// ACR is the level the portal was told at the token endpoint; the
	// ledger records it for userinfo answers. Empty in tokens sealed
	// before it existed.
	ACR string `json:"acr,omitempty"`
	// IssuedAt: a withdrawal of consent makes older tokens inactive.
	IssuedAt time.Time `json:"iat,omitzero"`
	// AuthTime is when the citizen authenticated (introspection).
	AuthTime time.Time `json:"at,omitzero"`
	// Subject is the token's sub (an opaque token carries no claims).
	Subject string `json:"su,omitempty"`
	// JKT is the thumbprint of the DPoP key the token is bound to.
	JKT string `json:"jkt,omitempty"`
	// Claims are the claims the request asked for by name (the claims
	// parameter), released by userinfo.
	Claims []string `json:"cm,omitempty"`
}

const jtiPrefix = "at1."

var jtiAD = []byte("citizenid access token id v1")

func (p *Provider) sealJTI(t accessTokenID) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	sealed, err := p.o.Sealer.Seal(b, jtiAD)
	if err != nil {
		return "", err
	}
	return jtiPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (p *Provider) openJTI(jti string) (*accessTokenID, error) {
	raw, ok := strings.CutPrefix(jti, jtiPrefix)
	if !ok || len(raw) > 4096 {
		return nil, errors.New("not an access token id")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, err
	}
	b, err := p.o.Sealer.Open(sealed, jtiAD)
	if err != nil {
		return nil, err
	}
	t := new(accessTokenID)
	if err := json.Unmarshal(b, t); err != nil {
		return nil, err
	}
	return t, nil
}

// tokenRequest is what every request type behind a token offers us.
type tokenRequest interface {
	op.TokenRequest
	GetClientID() string
	citizenRef() string
	sessionRef() string
}

// issuance is what one token request issued.
type issuance struct {
	jti     string         // the access token's sealed id
	token   *accessTokenID // what it seals
	refresh string         // the new refresh token, if any
}

// issue seals a new access token for req (bound to the DPoP key jkt when
// not empty) and, when the request calls for one, a refresh token: a new
// family for a code exchange, the rotation of current for a refresh
// grant, whose reuse revokes the whole family. A code is consumed here,
// after the client was authenticated and PKCE checked.
func (s *storage) issue(ctx context.Context, req op.TokenRequest, c *client, current, jkt string) (*issuance, error) {
	tr, ok := req.(tokenRequest)
	if !ok {
		return nil, fmt.Errorf("unsupported token request %T", req)
	}
	a, isCode := req.(*authRequest)
	if isCode {
		if err := s.consumeCode(ctx, a); err != nil {
			return nil, err
		}
	}
	now := s.p.now()
	t := &accessTokenID{
		Nonce:     session.RandomToken(8),
		CitizenID: tr.citizenRef(),
		ClientID:  c.c.ID,
		SessionID: tr.sessionRef(),
		Scopes:    req.GetScopes(),
		Expiry:    now.Add(c.accessTokenLifetime()).UTC().Truncate(time.Second),
		IssuedAt:  now,
		JKT:       jkt,
		Subject:   req.GetSubject(),
	}
	if r, ok := req.(interface {
		GetACR() string
		GetAuthTime() time.Time
	}); ok {
		t.ACR, t.AuthTime = r.GetACR(), r.GetAuthTime()
	}
	if cr, ok := req.(interface{ claimsRef() []string }); ok {
		t.Claims = cr.claimsRef()
	}
	jti, err := s.p.sealJTI(*t)
	if err != nil {
		return nil, err
	}
	out := &issuance{jti: jti, token: t}
	rr, isRefresh := req.(*refreshRequest)
	if !isRefresh && !(isCode && slices.Contains(req.GetScopes(), zoidc.ScopeOfflineAccess)) {
		if isCode {
			s.rememberExchange(ctx, a, jti, t.Expiry)
		}
		return out, nil
	}
	out.refresh = session.RandomToken(32)
	next := &store.RefreshToken{
		ID:        session.RandomToken(16),
		TokenHash: session.Hash(out.refresh),
		CitizenID: tr.citizenRef(),
		ClientID:  c.c.ID,
		Subject:   req.GetSubject(),
		SessionID: tr.sessionRef(),
		Scopes:    req.GetScopes(),
		Audience:  req.GetAudience(),
		Claims:    t.Claims,
		CreatedAt: now,
		ExpiresAt: now.Add(c.refreshTokenLifetime()),
	}
	// A public client's refresh token is bound to its DPoP key (RFC 9449
	// §5); a confidential client's is bound to its authentication.
	if c.c.Public {
		next.DPoPJKT = jkt
	}
	if isCode {
		next.FamilyID = session.RandomToken(16)
		next.AuthTime, next.ACR, next.AMR = a.AuthTime, a.ACR, a.AMR
		// The token and the code's mark (what a replay revokes) are
		// stored in one commit.
		stored := false
		err := s.p.keepIn(ctx, markCodeUsed, a.CodeHash, exchangeUse(a, jti, t.Expiry, next.FamilyID), func(m store.Mark) error {
			if err := s.p.o.Store.CreateRefreshToken(ctx, next, m); err != nil {
				return err
			}
			stored = true
			return nil
		})
		if !stored {
			return nil, unavailable(fmt.Errorf("store refresh token: %w", err))
		} else if err != nil {
			s.p.o.Log.ErrorContext(ctx, "remember an exchanged code", "err", err)
		}
		return out, nil
	}
	next.FamilyID = rr.rt.FamilyID
	next.AuthTime, next.ACR, next.AMR = rr.rt.AuthTime, rr.rt.ACR, rr.rt.AMR
	err = s.p.o.Store.RotateRefreshToken(ctx, session.Hash(current), next, now)
	if errors.Is(err, store.ErrTokenReused) {
		s.refreshReused(ctx, rr.rt)
		return nil, zoidc.ErrInvalidGrant().WithDescription("refresh token already used")
	} else if err != nil {
		return nil, unavailable(fmt.Errorf("rotate refresh token: %w", err))
	}
	return out, nil
}

// CreateAccessToken and CreateAccessAndRefreshTokens are op.Storage's;
// every grant is answered by tokenResponse, which calls issue.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errors.New("tokens are issued by tokenResponse")
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("tokens are issued by tokenResponse")
}

func (s *storage) refreshReused(ctx context.Context, rt *store.RefreshToken) {
	s.p.o.Store.RevokeRefreshFamily(ctx, rt.FamilyID, s.p.now())
	s.p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + rt.ClientID, Action: "oidc.refresh_reuse", Outcome: "refused",
		Target: "citizen:" + rt.CitizenID, ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"family": rt.FamilyID, "revoked": "family"}})
}

// refreshRequest is a refresh grant. It also poses as an op.AuthRequest,
// the only way the library puts acr into an ID token (it has no GetACR on
// refresh requests); DeleteAuthRequest ignores its empty ID.
type refreshRequest struct {
	rt     *store.RefreshToken
	scopes []string
	// citizen is the token's citizen as this grant loaded it, to check
	// they may still log in; the ID token's claims are filled from it.
	citizen *store.Citizen
}

func (r *refreshRequest) loadedCitizen() *store.Citizen { return r.citizen }

var (
	_ op.RefreshTokenRequest = (*refreshRequest)(nil)
	_ op.AuthRequest         = (*refreshRequest)(nil)
)

func (r *refreshRequest) GetAMR() []string                       { return r.rt.AMR }
func (r *refreshRequest) GetAudience() []string                  { return r.rt.Audience }
func (r *refreshRequest) GetAuthTime() time.Time                 { return r.rt.AuthTime }
func (r *refreshRequest) GetClientID() string                    { return r.rt.ClientID }
func (r *refreshRequest) GetScopes() []string                    { return r.scopes }
func (r *refreshRequest) GetSubject() string                     { return r.rt.Subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string)       { r.scopes = scopes }
func (r *refreshRequest) GetID() string                          { return "" }
func (r *refreshRequest) GetACR() string                         { return r.rt.ACR }
func (r *refreshRequest) GetCodeChallenge() *zoidc.CodeChallenge { return nil }
func (r *refreshRequest) GetNonce() string                       { return "" }
func (r *refreshRequest) GetRedirectURI() string                 { return "" }
func (r *refreshRequest) GetResponseType() zoidc.ResponseType    { return zoidc.ResponseTypeCode }
func (r *refreshRequest) GetResponseMode() zoidc.ResponseMode    { return "" }
func (r *refreshRequest) GetState() string                       { return "" }
func (r *refreshRequest) Done() bool                             { return true }
func (r *refreshRequest) citizenRef() string                     { return r.rt.CitizenID }
func (r *refreshRequest) sessionRef() string                     { return r.rt.SessionID }
func (r *refreshRequest) claimsRef() []string                    { return r.rt.Claims }

// TokenRequestByRefreshToken finds a usable refresh token. A token that was
// already rotated is a theft signal: the whole family is revoked.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	hash := session.Hash(token)
	rt, c, err := s.p.o.Store.RefreshTokenWithCitizen(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		// No such token, or its citizen is gone: the token alone tells
		// which, and a reused one must still revoke its family.
		rt, err = s.p.o.Store.RefreshTokenByHash(ctx, hash)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, op.ErrInvalidRefreshToken
	} else if err != nil {
		return nil, unavailable(err)
	}
	now := s.p.now()
	switch {
	case !rt.RevokedAt.IsZero():
		return nil, errors.New("refresh token revoked")
	case !rt.UsedAt.IsZero():
		s.refreshReused(ctx, rt)
		return nil, errors.New("refresh token reused")
	case !now.Before(rt.ExpiresAt):
		return nil, errors.New("refresh token expired")
	}
	if c == nil || c.Disabled {
		return nil, errors.New("citizen unavailable")
	}
	if !slices.Contains(rt.Scopes, zoidc.ScopeOfflineAccess) {
		return nil, errors.New("refresh token lacks offline_access")
	}
	return &refreshRequest{rt: rt, scopes: rt.Scopes, citizen: c}, nil
}

const refreshIDPrefix = "rt:"

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.p.o.Store.RefreshTokenByHash(ctx, session.Hash(token))
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.Subject, refreshIDPrefix + rt.FamilyID, nil
}

// RevokeToken revokes a refresh-token family or one access token (RFC
// 7009). Unknown tokens and other clients' tokens are ignored, as the RFC
// asks.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _ string, clientID string) *zoidc.Error {
	if family, ok := strings.CutPrefix(tokenOrID, refreshIDPrefix); ok {
		if err := s.p.o.Store.RevokeRefreshFamily(ctx, family, s.p.now()); err != nil {
			return zoidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := s.p.openJTI(tokenOrID)
	if err != nil || t.ClientID != clientID {
		return nil
	}
	if err := s.p.o.Sessions.RevokeToken(ctx, tokenOrID, t.Expiry); err != nil {
		return zoidc.ErrServerError().WithParent(err)
	}
	return nil
}

// Marks of a code exchange (session.Store.Keep): kept durably for the
// replay window, so a replay revokes what the code issued even after
// Redis restarted empty.
const (
	markCodeUsed = "codeused" // hash of an exchanged code → codeUse
	// markIssued (authorization request → what its code issued) is only
	// read: kept by older versions, it lives out the replay window.
	markIssued = "issued"
)

// keep stores v as mark kind/id for the replay window.
func (p *Provider) keep(ctx context.Context, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.o.Sessions.Keep(ctx, kind, id, b, p.now().Add(p.replayWindow()))
}

// keepIn is keep whose durable copy persist writes (session.Store.KeepIn).
func (p *Provider) keepIn(ctx context.Context, kind, id string, v any, persist func(store.Mark) error) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.o.Sessions.KeepIn(ctx, kind, id, b, p.now().Add(p.replayWindow()), persist)
}

// kept loads mark kind/id into v and reports whether it is there.
func (p *Provider) kept(ctx context.Context, kind, id string, v any) (bool, error) {
	b, ok, err := p.o.Sessions.Kept(ctx, kind, id)
	if err != nil || !ok {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// usedCode is the record of a used code; session.ErrNotFound when there
// is none.
func (p *Provider) usedCode(ctx context.Context, codeHash string) (codeUse, error) {
	var use codeUse
	found, err := p.kept(ctx, markCodeUsed, codeHash, &use)
	if err == nil && !found {
		err = session.ErrNotFound
	}
	return use, err
}

// replayWindow is how long a used code is remembered, so that its replay
// revokes what it issued: ten times a code's lifetime, at least ten
// minutes. A code replayed later is refused as unknown, but revokes
// nothing; keeping every exchange's record for a refresh token's lifetime
// (8 h) was the bulk of Redis's memory under load.
func (p *Provider) replayWindow() time.Duration {
	return max(10*p.o.Lifetimes.Code, 10*time.Minute)
}

// liveAccessToken opens a jti and checks it is neither revoked nor from a
// session that has ended (unless it came from offline access).
func (p *Provider) liveAccessToken(ctx context.Context, jti string) (*accessTokenID, error) {
	t, err := p.openJTI(jti)
	if err != nil {
		return nil, err
	}
	if !p.now().Before(t.Expiry) {
		return nil, errors.New("access token expired")
	}
	revoked, err := p.o.Sessions.TokenRevoked(ctx, jti)
	if err != nil {
		return nil, unavailable(err)
	}
	if revoked {
		return nil, errors.New("access token revoked")
	}
	if withdrawn, err := p.withdrawnAfter(ctx, t); err != nil {
		return nil, unavailable(err)
	} else if withdrawn {
		return nil, errors.New("consent withdrawn")
	}
	switch {
	case t.SessionID == "":
	case !slices.Contains(t.Scopes, zoidc.ScopeOfflineAccess):
		// Valid while the SSO session lives.
		if _, err := p.o.Sessions.BySID(ctx, t.SessionID); errors.Is(err, session.ErrNotFound) {
			return nil, errors.New("session ended")
		} else if err != nil {
			return nil, unavailable(err)
		}
	default:
		// offline_access outlives a session that expired, not one that
		// was ended (a logout, an administrator).
		if ended, err := p.o.Sessions.Marked(ctx, markEnded, t.SessionID); err != nil {
			return nil, unavailable(err)
		} else if ended {
			return nil, errors.New("session ended")
		}
	}
	return t, nil
}

// MaxTokenLifetime is the longest access or ID token lifetime a client
// may be given.
const MaxTokenLifetime = 24 * time.Hour

// markEnded marks a session that was ended, for as long as an access
// token issued in it can live: durable (session.Store.Mark), so a Redis
// that restarts empty does not bring its offline_access tokens back.
const markEnded = "ended"

// longestAccessToken is the longest an access token can live: the default
// or the longest a client may configure.
func (p *Provider) longestAccessToken() time.Duration {
	return max(p.o.Lifetimes.AccessToken, MaxTokenLifetime) + time.Minute
}
