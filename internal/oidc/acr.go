package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/assurance"
)

// claimsKey carries the parsed `claims` request parameter from the
// authorize pre-check to CreateAuthRequest (the library does not parse it).
type claimsKey struct{}

type claimsParam struct {
	level assurance.Level // from an essential acr claim; 0: none
	err   error
}

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
	for _, member := range []string{"id_token", "userinfo"} {
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
	return claimsParam{level: level}
}

// requestedLevel is the minimum level of an authorization request.
func (p *Provider) requestedLevel(ctx context.Context, req *zoidc.AuthRequest, c *client) (assurance.Level, error) {
	level := assurance.Level(max(c.c.MinLevel, 1))
	if l, ok := assurance.ParseACRValues(p.o.ACR, req.ACRValues.String()); ok {
		level = max(level, l)
	}
	if cp, ok := ctx.Value(claimsKey{}).(claimsParam); ok {
		if cp.err != nil {
			return 0, cp.err
		}
		level = max(level, cp.level)
	}
	return level, nil
}

// discovery adds what zitadel/oidc leaves out of the provider metadata:
// acr_values_supported and claims_parameter_supported.
func (p *Provider) discovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			copyResponse(w, rec)
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			copyResponse(w, rec)
			return
		}
		doc["acr_values_supported"] = p.o.ACR.Supported()
		doc["claims_parameter_supported"] = true
		doc["response_modes_supported"] = responseModes
		// Only what is served: the library lists the implicit flow, the
		// device flow and the JWT-bearer grant whatever the storage, and
		// private_key_jwt algorithms for endpoints that take secrets only.
		// A portal's library picks from this list, so nothing refused may
		// be on it (and pairwise, the default, must be).
		doc["response_types_supported"] = []string{string(zoidc.ResponseTypeCode)}
		doc["grant_types_supported"] = []string{string(zoidc.GrantTypeCode), string(zoidc.GrantTypeRefreshToken),
			string(zoidc.GrantTypeClientCredentials)}
		doc["subject_types_supported"] = []string{"pairwise", "public"}
		for _, k := range []string{"device_authorization_endpoint", "introspection_endpoint_auth_signing_alg_values_supported",
			"revocation_endpoint_auth_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported",
			"request_object_signing_alg_values_supported"} {
			delete(doc, k)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(doc)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		w.Write(buf.Bytes())
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
