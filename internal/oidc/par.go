package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/session"
)

// Pushed authorization requests (RFC 9126): the client posts the
// request's parameters, authenticated as at the token endpoint, and
// gets a request_uri to send the browser with. The parameters are
// checked here like an authorization request's, and a refusal goes back
// to the client as JSON, never to a browser. A request_uri lives 60
// seconds, is bound to its client and is used once.

const (
	pathPAR = "/par"
	parTTL  = 60
)

// pushed is a pushed authorization request, kept in Redis.
type pushed struct {
	ClientID string     `json:"cl"`
	Params   url.Values `json:"p"`
}

var kindPAR = session.NewBucket[pushed]("par")

// authParamsOnly are the client-authentication parameters that are not
// part of the authorization request.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// servePAR is the pushed authorization request endpoint.
func (p *Provider) servePAR(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		op.WriteError(w, r, op.NewStatusError(zoidc.ErrInvalidRequest().WithDescription("use POST"), http.StatusMethodNotAllowed), nil)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		op.WriteError(w, r, zoidc.ErrInvalidRequest().WithDescription("the request body cannot be parsed"), nil)
		return
	}
	ctx := r.Context()
	cc, err := clientCredentials(r)
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	c, err := p.authenticateClient(ctx, cc, pathPAR, "")
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	params, err := p.pushedParams(ctx, c, r.PostForm)
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	id := session.RandomToken(24)
	if err := kindPAR.Put(ctx, p.o.Sessions, id, pushed{ClientID: c.c.ID, Params: params}, parTTL*1e9); err != nil {
		p.o.Log.ErrorContext(ctx, "store a pushed authorization request", "err", err)
		serverUnavailable(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": parURN + id, "expires_in": parTTL})
}

// pushedParams checks the parameters pushed by c and returns those to
// keep: the request object's when there is one.
func (p *Provider) pushedParams(ctx context.Context, c *client, form url.Values) (url.Values, error) {
	if form.Has("request_uri") {
		return nil, zoidc.ErrInvalidRequest().WithDescription("request_uri is not allowed in a pushed authorization request")
	}
	params := url.Values{}
	for k, v := range form {
		if !slices.Contains(clientAuthParams, k) {
			params[k] = v
		}
	}
	if raw := form.Get("request"); raw != "" {
		obj, err := p.requestObject(ctx, c, raw)
		if err != nil {
			return nil, err
		}
		params = obj
	}
	if id := params.Get("client_id"); id != "" && id != c.c.ID {
		return nil, zoidc.ErrInvalidRequest().WithDescription("client_id is not the authenticated client")
	}
	params.Set("client_id", c.c.ID)
	if len(params["redirect_uri"]) != 1 || !RedirectURIAllowed(c.c, params.Get("redirect_uri")) {
		return nil, zoidc.ErrInvalidRequest().WithDescription("redirect_uri is not registered for the client")
	}
	req := new(zoidc.AuthRequest)
	if err := p.op.Decoder().Decode(req, params); err != nil {
		return nil, zoidc.ErrInvalidRequest().WithDescription("the parameters cannot be read")
	}
	if err := p.earlyChecks(req, c); err != nil {
		return nil, err
	}
	cp := p.parseClaimsParam(params.Get("claims"))
	if _, err := p.checkAuthRequest(ctx, req, c, authContext{claims: cp, viaPAR: true, dpopJKT: params.Get("dpop_jkt")}); err != nil {
		return nil, err
	}
	return params, nil
}

// fromPAR replaces an authorization request's parameters by those pushed
// under its request_uri, taken once; the client_id outside must match.
func (p *Provider) fromPAR(ctx context.Context, form url.Values) (url.Values, error) {
	id, err := parID(form.Get("request_uri"))
	if err != nil {
		return nil, err
	}
	var pr pushed
	if err := kindPAR.Take(ctx, p.o.Sessions, id, &pr); errors.Is(err, session.ErrNotFound) {
		return nil, errPARUnknown
	} else if err != nil {
		return nil, unavailable(err)
	}
	if form.Get("client_id") != pr.ClientID {
		return nil, errPARUnknown
	}
	return pr.Params, nil
}

var errPARUnknown = errors.New("unknown, used or expired request_uri")

// clientCredentials reads a request's client authentication: HTTP Basic
// or form parameters, never two methods at once (RFC 6749 §2.3).
func clientCredentials(r *http.Request) (*op.ClientCredentials, error) {
	cc := &op.ClientCredentials{
		ClientID:            r.PostForm.Get("client_id"),
		ClientSecret:        r.PostForm.Get("client_secret"),
		ClientAssertion:     r.PostForm.Get("client_assertion"),
		ClientAssertionType: r.PostForm.Get("client_assertion_type"),
	}
	id, secret, basic := r.BasicAuth()
	methods := 0
	for _, used := range []bool{basic, cc.ClientSecret != "", cc.ClientAssertion != ""} {
		if used {
			methods++
		}
	}
	if methods > 1 {
		return nil, zoidc.ErrInvalidRequest().WithDescription("use one client authentication method, not two")
	}
	if basic {
		var err1, err2 error
		cc.ClientID, err1 = url.QueryUnescape(id)
		cc.ClientSecret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, clientAuthFailed(zoidc.ErrInvalidClient().WithDescription("the Basic credentials cannot be read"))
		}
	}
	if cc.ClientID == "" && cc.ClientAssertion == "" {
		return nil, clientAuthFailed(zoidc.ErrInvalidClient().WithDescription("client authentication is required"))
	}
	return cc, nil
}
