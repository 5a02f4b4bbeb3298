package oidc

import (
	"encoding/json"
	"slices"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/assurance"
)

// claimsParam is the parsed `claims` request parameter (OIDC Core §5.5).
type claimsParam struct {
	level assurance.Level // from an essential acr claim; 0: none
	names []string        // the other claims asked for by name
	err   error
}

// allowed are the claims asked for by name that c may receive; the rest
// are left out, as OIDC Core §5.5 allows.
func (cp claimsParam) allowed(c *client) []string {
	var out []string
	for _, n := range cp.names {
		if scope, ok := claimScope[n]; ok && (scope == "" || !slices.Contains(ExtraScopes, scope) || slices.Contains(c.c.Scopes, scope)) {
			out = append(out, n)
		}
	}
	return out
}

// claimScope maps each claim that may be asked for by name to the scope
// that releases it ("" for claims every login carries).
var claimScope = map[string]string{
	"name": "profile", "birthdate": "profile", ClaimIdentityLevel: "profile",
	"email": "email", "email_verified": "email",
	"phone_number": "phone", "phone_number_verified": "phone",
	ClaimCitizenNumber:  ScopeCitizenNumber,
	ClaimCertThumbprint: ScopeCertificate, ClaimCertSerial: ScopeCertificate,
}

// ExtraScopes are the scopes beyond the standard ones: a client must be
// allowed each (store.Client.Scopes) to receive its claims.
var ExtraScopes = []string{ScopeCitizenNumber, ScopeCertificate}

// claimRequest is one entry of the claims parameter (OIDC Core §5.5.1).
type claimRequest struct {
	Essential bool     `json:"essential"`
	Value     string   `json:"value"`
	Values    []string `json:"values"`
}

// parseClaimsParam reads an essential acr from the claims parameter; the
// lowest listed level is the minimum, as for acr_values.
func (p *Provider) parseClaimsParam(raw string) claimsParam {
	if raw == "" {
		return claimsParam{}
	}
	if len(raw) > 8192 {
		return claimsParam{err: zoidc.ErrInvalidRequest().WithDescription("the claims parameter is too long")}
	}
	var doc map[string]map[string]*claimRequest
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return claimsParam{err: zoidc.ErrInvalidRequest().WithDescription("the claims parameter is not valid JSON")}
	}
	var level assurance.Level
	var names []string
	for _, member := range []string{"id_token", "userinfo"} {
		for name := range doc[member] {
			if _, ok := claimScope[name]; ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		acr := doc[member]["acr"]
		if acr == nil || !acr.Essential {
			continue
		}
		values := acr.Values
		if acr.Value != "" {
			values = append(values, acr.Value)
		}
		for _, v := range values {
			if l, ok := p.o.ACR.Level(v); ok && (level == 0 || l < level) {
				level = l
			}
		}
		if level == 0 {
			return claimsParam{err: &zoidc.Error{ErrorType: "unmet_authentication_requirements",
				Description: "no requested essential acr value is supported"}}
		}
	}
	slices.Sort(names)
	return claimsParam{level: level, names: names}
}

// requestedLevel is the minimum level of an authorization request.
func (p *Provider) requestedLevel(req *zoidc.AuthRequest, c *client, cp claimsParam) (assurance.Level, error) {
	level := assurance.Level(max(c.c.MinLevel, 1))
	if l, ok := assurance.ParseACRValues(p.o.ACR, req.ACRValues.String()); ok {
		level = max(level, l)
	}
	if cp.err != nil {
		return 0, cp.err
	}
	level = max(level, cp.level)
	return level, nil
}
