package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// createIDToken is op.CreateIDToken (zitadel/oidc v3.52) with the same
// claims from the same storage calls, signed with the client's algorithm
// (idTokenAlg) and serialised once: the library's IDTokenClaims.MarshalJSON
// encodes the registered claims, decodes them into a map, adds the others
// and encodes the map again, which cost a refresh grant as much CPU as its
// ES256 signature.
func (p *Provider) createIDToken(ctx context.Context, req op.IDTokenRequest, c *client, accessToken, code string) (string, error) {
	exp := time.Now().UTC().Add(c.ClockSkew()).Add(c.IDTokenLifetime())
	var acr, nonce string
	if a, ok := req.(op.AuthRequest); ok {
		acr, nonce = a.GetACR(), a.GetNonce()
	}
	claims := zoidc.NewIDTokenClaims(p.o.Issuer, req.GetSubject(), req.GetAudience(), exp, req.GetAuthTime(), nonce, acr, req.GetAMR(), req.GetClientID(), c.ClockSkew())
	scopes := c.RestrictAdditionalIdTokenScopes()(req.GetScopes())
	key, err := p.o.Keys.SigningFor(ctx, p.idTokenAlg(c))
	if err != nil {
		return "", unavailable(err)
	}
	alg := jose.SignatureAlgorithm(key.Algorithm)
	if accessToken != "" {
		if claims.AccessTokenHash, err = zoidc.ClaimHash(accessToken, alg); err != nil {
			return "", err
		}
		// IDTokenUserinfoClaimsAssertion is always true here: the
		// profile claims stay in the ID token beside the access token.
	}
	if len(scopes) > 0 {
		info := new(zoidc.UserInfo)
		if err := p.st.SetUserinfoFromScopes(ctx, info, req.GetSubject(), req.GetClientID(), scopes); err != nil {
			return "", err
		}
		if err := p.st.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
			return "", err
		}
		claims.SetUserInfo(info)
	}
	if code != "" {
		if claims.CodeHash, err = zoidc.ClaimHash(code, alg); err != nil {
			return "", err
		}
	}
	payload, err := marshalIDToken(claims)
	if err != nil {
		return "", err
	}
	return signJWS(key, "JWT", payload)
}

// registeredIDToken has IDTokenClaims' fields without its MarshalJSON.
type registeredIDToken zoidc.IDTokenClaims

// marshalIDToken encodes the claims as IDTokenClaims.MarshalJSON does —
// the registered claims and, beside them, the others (Claims) — appending
// the others to the encoded registered ones. Should another claim share a
// registered claim's name (it would replace it), the library encodes it.
func marshalIDToken(c *zoidc.IDTokenClaims) ([]byte, error) {
	b, err := json.Marshal((*registeredIDToken)(c))
	if err != nil || len(c.Claims) == 0 {
		return b, err
	}
	b = b[:len(b)-1] // the closing brace
	for _, k := range slices.Sorted(maps.Keys(c.Claims)) {
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, append(name, ':')) {
			return json.Marshal(c)
		}
		v, err := json.Marshal(c.Claims[k])
		if err != nil {
			return nil, err
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, name...), ':'), v...)
	}
	return append(b, '}'), nil
}
