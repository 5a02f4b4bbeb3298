package oidc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/keys"
)

// Discovery (OpenID Connect Discovery 1.0, RFC 8414) lists exactly what
// this provider serves: a portal's library picks from it, so everything
// listed must work and nothing refused may be listed. The document is
// built once and served as prepared bytes with an ETag.

// discoveryDoc is the provider metadata.
func (p *Provider) discoveryDoc() map[string]any {
	iss := p.o.Issuer
	algs := make([]string, len(clientkeys.Algorithms))
	for i, a := range clientkeys.Algorithms {
		algs[i] = string(a)
	}
	return map[string]any{
		"issuer":                                        iss,
		"authorization_endpoint":                        iss + pathAuthorize,
		"token_endpoint":                                iss + pathToken,
		"introspection_endpoint":                        iss + pathIntrospect,
		"userinfo_endpoint":                             iss + pathUserinfo,
		"revocation_endpoint":                           iss + pathRevoke,
		"end_session_endpoint":                          iss + pathEndSession,
		"jwks_uri":                                      iss + pathKeys,
		"scopes_supported":                              supportedScopes,
		"response_types_supported":                      []string{string(zoidc.ResponseTypeCode)},
		"response_modes_supported":                      responseModes,
		"grant_types_supported":                         []string{string(zoidc.GrantTypeCode), string(zoidc.GrantTypeRefreshToken), string(zoidc.GrantTypeClientCredentials)},
		"acr_values_supported":                          p.o.ACR.Supported(),
		"subject_types_supported":                       []string{"pairwise", "public"},
		"id_token_signing_alg_values_supported":         p.o.Keys.Algorithms(),
		"token_endpoint_auth_methods_supported":         authMethods,
		"revocation_endpoint_auth_methods_supported":    authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods[:3], // a public client has nothing to introspect with
		"claims_supported":                              supportedClaims,
		"claims_parameter_supported":                    true,
		"code_challenge_methods_supported":              []string{string(zoidc.CodeChallengeMethodS256)},
		"ui_locales_supported":                          []string{"vi", "en"},
		"request_parameter_supported":                   true,
		"request_object_signing_alg_values_supported":   algs,
		// request_uri is accepted only from our PAR endpoint: nothing is
		// fetched from a URL a request names.
		"request_uri_parameter_supported":                          false,
		"pushed_authorization_request_endpoint":                    iss + pathPAR,
		"require_pushed_authorization_requests":                    p.o.RequirePAR,
		"token_endpoint_auth_signing_alg_values_supported":         algs,
		"introspection_endpoint_auth_signing_alg_values_supported": algs,
		"revocation_endpoint_auth_signing_alg_values_supported":    algs,
		"dpop_signing_alg_values_supported":                        dpopAlgNames(),
		"authorization_response_iss_parameter_supported":           true,
		"backchannel_logout_supported":                             true,
		"backchannel_logout_session_supported":                     true,
	}
}

// authMethods are the client authentication methods of the token,
// introspection and revocation endpoints.
var authMethods = []string{"client_secret_basic", "client_secret_post", AuthPrivateKeyJWT, "none"}

// preparedJSON is a JSON document encoded once, with its ETag.
type preparedJSON struct {
	once   sync.Once
	body   []byte
	etag   string
	length string // of body, so the answer is one write, never chunked
}

func (d *preparedJSON) prepare(build func() any) {
	d.once.Do(func() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(build()); err != nil {
			panic("oidc: encode a prepared document: " + err.Error())
		}
		d.body = buf.Bytes()
		sum := sha256.Sum256(d.body)
		d.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
		d.length = strconv.Itoa(len(d.body))
	})
}

// serve writes the document, or 304 when the client has this version.
func (d *preparedJSON) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", d.etag)
	if r.Header.Get("If-None-Match") == d.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", d.length)
	w.Write(d.body)
}

// serveDiscovery answers /.well-known/openid-configuration.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p.discovery.prepare(func() any { return p.discoveryDoc() })
	p.discovery.serve(w, r, "public, max-age=300")
}

// jwksCache is the JWKS as prepared bytes, rebuilt when the published
// keys change (tag: their ids, algorithms and states in order).
type jwksCache struct {
	mu  sync.Mutex
	tag string
	doc *preparedJSON
}

// serveKeys answers the JWKS endpoint from prepared bytes.
func (p *Provider) serveKeys(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	pub, err := p.o.Keys.Published(r.Context())
	if err != nil {
		p.o.Log.ErrorContext(r.Context(), "jwks: load the published keys", "err", err)
		serverUnavailable(w)
		return
	}
	tag := keys.KeySetTag(pub)
	p.jwks.mu.Lock()
	doc := p.jwks.doc
	if doc == nil || p.jwks.tag != tag {
		doc = &preparedJSON{}
		p.jwks.doc, p.jwks.tag = doc, tag
	}
	p.jwks.mu.Unlock()
	doc.prepare(func() any {
		set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(pub))}
		for i, k := range pub {
			set.Keys[i] = jose.JSONWebKey{Key: k.Key, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}
		}
		return set
	})
	doc.serve(w, r, "public, max-age=300")
}
