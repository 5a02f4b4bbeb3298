package oidc

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/store"
)

// client adapts a stored client to op.Client.
type client struct {
	c         *store.Client
	lifetimes Lifetimes
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() zoidc.AuthMethod {
	if c.c.Public {
		return zoidc.AuthMethodNone
	}
	switch c.c.TokenEndpointAuthMethod {
	case string(zoidc.AuthMethodPost):
		return zoidc.AuthMethodPost
	case AuthPrivateKeyJWT:
		return zoidc.AuthMethodPrivateKeyJWT
	}
	return zoidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []zoidc.ResponseType {
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}

// GrantTypes: the code flow with refresh for every client; client
// credentials only for a confidential client an owner granted admin API
// scopes.
func (c *client) GrantTypes() []zoidc.GrantType {
	g := []zoidc.GrantType{zoidc.GrantTypeCode, zoidc.GrantTypeRefreshToken}
	if !c.c.Public && len(c.c.AdminScopes) > 0 {
		g = append(g, zoidc.GrantTypeClientCredentials)
	}
	return g
}

func (c *client) LoginURL(id string) string           { return pathLogin + url.PathEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (c *client) IDTokenLifetime() time.Duration {
	return orDefault(c.c.IDTokenLifetime, c.lifetimes.IDToken)
}

func (c *client) accessTokenLifetime() time.Duration {
	return orDefault(c.c.AccessTokenLifetime, c.lifetimes.AccessToken)
}

func (c *client) refreshTokenLifetime() time.Duration {
	return orDefault(c.c.RefreshTokenLifetime, c.lifetimes.RefreshToken)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (c *client) DevMode() bool { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits extra scopes (beyond the standard ones) only when
// the client is configured for them, e.g. citizen_number.
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.c.Scopes, scope) }

// IDTokenUserinfoClaimsAssertion: profile claims go in the ID token too, so
// a portal that reads only the ID token gets what it asked for.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// RedirectURIAllowed reports whether uri may receive authorization
// responses for c: an exact match with a registered URI or, for public
// (native) clients, a registered loopback URI on any port (RFC 8252 §7.3).
func RedirectURIAllowed(c *store.Client, uri string) bool {
	if uri == "" || len(uri) > 2048 {
		return false
	}
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if !c.Public {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil || !isLoopbackIP(u.Hostname()) {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopbackIP(r.Hostname()) {
			continue
		}
		if r.Hostname() == u.Hostname() && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && !strings.Contains(host, "%")
}
