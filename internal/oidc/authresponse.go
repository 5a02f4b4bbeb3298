package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/citizenid/citizenid/internal/server"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Authorization responses carry iss (RFC 9207), success and error alike,
// so a portal talking to several providers can tell which one answered
// (mix-up attacks). They are built here, not by the library.

// authResponseURL is redirectURI with params and iss, in the query or,
// for response_mode=fragment, the fragment.
func (p *Provider) authResponseURL(redirectURI, responseMode string, params url.Values) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", err
	}
	params.Set("iss", p.o.Issuer)
	if zoidc.ResponseMode(responseMode) == zoidc.ResponseModeFragment {
		u.Fragment = ""
		u.RawFragment = ""
		return u.String() + "#" + params.Encode(), nil
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// authErrorURL is the error response for e to a request with a
// registered redirectURI.
func (p *Provider) authErrorURL(redirectURI, responseMode, state string, err error) (string, error) {
	e := zoidc.DefaultToServerError(err, "the request could not be served")
	params := url.Values{"error": {string(e.ErrorType)}}
	if e.Description != "" {
		params.Set("error_description", e.Description)
	}
	if state != "" {
		params.Set("state", state)
	}
	return p.authResponseURL(redirectURI, responseMode, params)
}

// authErrorRedirect answers an authorization request whose client and
// redirect URI were checked with err, as a redirect to the portal.
func (p *Provider) authErrorRedirect(req *zoidc.AuthRequest, err error) (*op.Redirect, error) {
	var oe *zoidc.Error
	if errors.As(err, &oe) && oe.IsRedirectDisabled() {
		return nil, op.AsStatusError(oe, http.StatusBadRequest)
	}
	u, uerr := p.authErrorURL(req.RedirectURI, string(req.ResponseMode), req.State, err)
	if uerr != nil {
		return nil, op.AsStatusError(zoidc.ErrInvalidRequest().WithDescription("redirect_uri cannot be parsed"), http.StatusBadRequest)
	}
	return op.NewRedirect(u), nil
}

// Authorize stores a checked authorization request and sends the
// browser to its login; refusals go back to the portal with iss.
func (s *opServer) Authorize(ctx context.Context, r *op.ClientRequest[zoidc.AuthRequest]) (*op.Redirect, error) {
	userID, err := op.ValidateAuthReqIDTokenHint(ctx, r.Data.IDTokenHint, s.p.op.IDTokenHintVerifier(ctx))
	if err != nil {
		return s.p.authErrorRedirect(r.Data, err)
	}
	if r.Data.RequestParam != "" {
		return s.p.authErrorRedirect(r.Data, zoidc.ErrRequestNotSupported())
	}
	req, err := s.p.st.CreateAuthRequest(ctx, r.Data, userID)
	if err != nil {
		return s.p.authErrorRedirect(r.Data, err)
	}
	return op.NewRedirect(r.Client.LoginURL(req.GetID())), nil
}

// earlyChecks runs, on a request whose client and redirect URI are
// known good, the library's own checks that come before Authorize, so
// that their refusals too reach the portal with iss.
func (p *Provider) earlyChecks(req *zoidc.AuthRequest, c *client) error {
	if err := op.ValidateAuthReqRedirectURI(c, req.RedirectURI, req.ResponseType); err != nil {
		return err
	}
	var err error
	if req.MaxAge, err = op.ValidateAuthReqPrompt(req.Prompt, req.MaxAge); err != nil {
		return err
	}
	if _, err := op.ValidateAuthReqScopes(c, req.Scopes); err != nil {
		return err
	}
	if err := op.ValidateAuthReqResponseType(c, req.ResponseType); err != nil {
		return err
	}
	return op.ValidateAuthReqCodeChallengeMethod(req.CodeChallenge, req.CodeChallengeMethod)
}

// authContext is what the authorize pre-check learned about a request,
// carried to CreateAuthRequest (the library has no place for it).
type authContext struct {
	claims  claimsParam
	viaPAR  bool      // the parameters came from our PAR endpoint
	dpopJKT string    // dpop_jkt (RFC 9449 §10)
	browser string    // the browser binding (login.Engine.Browser)
	hop     *loginHop // a GET /authorize's: told the request it stored
}

type authCtxKey struct{}

// requestParams resolves a request object (JAR) of an authorization
// request whose client and redirect URI were checked, runs the checks
// that come before Authorize, and returns the parameters that count.
func (p *Provider) requestParams(ctx context.Context, form url.Values, c *client, viaPAR bool) (url.Values, authContext, error) {
	ac := authContext{viaPAR: viaPAR}
	if raw := form.Get("request"); raw != "" && !viaPAR {
		obj, err := p.requestObject(ctx, c, raw)
		if err != nil {
			return form, ac, err
		}
		if len(obj["redirect_uri"]) != 1 || obj.Get("redirect_uri") != form.Get("redirect_uri") {
			return form, ac, errRequestObject().WithDescription("the request object's redirect_uri must be the request's")
		}
		form = obj
	}
	req := new(zoidc.AuthRequest)
	if err := p.op.Decoder().Decode(req, form); err != nil {
		return form, ac, zoidc.ErrInvalidRequest().WithDescription("the parameters cannot be read")
	}
	if err := p.earlyChecks(req, c); err != nil {
		return form, ac, err
	}
	ac.claims = p.parseClaimsParam(form.Get("claims"))
	ac.dpopJKT = form.Get("dpop_jkt")
	return form, ac, nil
}

// redirectError answers an authorization request whose client and
// redirect URI were checked with err, at the portal's redirect URI.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, form url.Values, err error) {
	if oe := new(zoidc.Error); errors.As(err, &oe) && oe.IsRedirectDisabled() {
		p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, nil), "err_redirect_uri")
		return
	}
	to, uerr := p.authErrorURL(form.Get("redirect_uri"), form.Get("response_mode"), form.Get("state"), err)
	if uerr != nil {
		p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, nil), "err_redirect_uri")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}
