package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// responseModes are the response modes that work (discovery lists them).
var responseModes = []string{string(zoidc.ResponseModeQuery), string(zoidc.ResponseModeFragment)}

// authRequest is a pending authorization request, kept in Redis.
type authRequest struct {
	ID                  string   `json:"id"`
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	Scopes              []string `json:"scopes"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *uint    `json:"max_age,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	UILocales           []string `json:"ui_locales,omitempty"`
	// MinLevel is the level the portal requires: the highest of acr_values
	// (its lowest listed level), an essential acr claim and the client's minimum.
	MinLevel int `json:"min_level"`
	// Browser binds the request to the browser that brought it
	// (login.Engine.Browser): at /authorize when the browser's binding
	// cookie is readable there, else at the first visit of the login URL.
	Browser   string    `json:"browser,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	// Set when the login completes.
	Done_     bool      `json:"done,omitempty"`
	CitizenID string    `json:"citizen_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	SessionID string    `json:"sid,omitempty"`
	AuthTime  time.Time `json:"auth_time,omitzero"`
	ACR       string    `json:"acr,omitempty"`
	AMR       []string  `json:"amr,omitempty"`
	CodeHash  string    `json:"code_hash,omitempty"`
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10); Claims are the
	// claims the request asked for by name (the claims parameter).
	DPoPJKT string   `json:"dpop_jkt,omitempty"`
	Claims  []string `json:"claims,omitempty"`

	// replayed marks the stand-in for a code already used (AuthRequestByCode).
	replayed bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return a.ACR }
func (a *authRequest) GetAMR() []string       { return a.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *zoidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &zoidc.CodeChallenge{Challenge: a.CodeChallenge, Method: zoidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                    { return a.Nonce }
func (a *authRequest) GetRedirectURI() string              { return a.RedirectURI }
func (a *authRequest) GetResponseType() zoidc.ResponseType { return zoidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() zoidc.ResponseMode { return zoidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetScopes() []string                 { return a.Scopes }
func (a *authRequest) GetState() string                    { return a.State }
func (a *authRequest) GetSubject() string                  { return a.Subject }
func (a *authRequest) Done() bool                          { return a.Done_ }

// citizenRef and sessionRef let claims code find the citizen and session
// behind any token request type.
func (a *authRequest) citizenRef() string  { return a.CitizenID }
func (a *authRequest) sessionRef() string  { return a.SessionID }
func (a *authRequest) claimsRef() []string { return a.Claims }

// Redis buckets of authorization requests and codes.
var (
	kindAuthRequest = session.NewBucket[authRequest]("ar")
	kindCode        = session.NewBucket[string]("code") // hash of a code → its request
)

// CreateAuthRequest enforces what the library leaves open, then stores the request.
func (s *storage) CreateAuthRequest(ctx context.Context, req *zoidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	ac, _ := ctx.Value(authCtxKey{}).(authContext)
	minLevel, err := s.p.checkAuthRequest(ctx, req, c, ac)
	if err != nil {
		return nil, err
	}
	var locales []string
	if req.UILocales != nil {
		for _, t := range req.UILocales {
			locales = append(locales, t.String())
		}
	}
	a := &authRequest{
		ID:                  session.RandomToken(24),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		Nonce:               req.Nonce,
		Scopes:              req.Scopes,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		MaxAge:              req.MaxAge,
		LoginHint:           req.LoginHint,
		UILocales:           locales,
		MinLevel:            int(minLevel),
		CreatedAt:           s.p.now(),
		Browser:             ac.browser,
		DPoPJKT:             ac.dpopJKT,
		Claims:              ac.claims.allowed(c),
	}
	if err := kindAuthRequest.Put(ctx, s.p.o.Sessions, a.ID, *a, s.p.o.AuthRequestTTL); err != nil {
		return nil, fmt.Errorf("store auth request: %w", err)
	}
	if ac.hop != nil {
		ac.hop.made = a
	}
	return a, nil
}

// checkAuthRequest enforces what the library leaves open and returns the
// minimum level the request needs. The PAR endpoint runs it too, so a
// pushed request is refused at once, to its client.
func (p *Provider) checkAuthRequest(ctx context.Context, req *zoidc.AuthRequest, c *client, ac authContext) (assurance.Level, error) {
	switch {
	case (c.c.RequirePAR || c.c.FAPI2() || p.o.RequirePAR) && !ac.viaPAR:
		return 0, zoidc.ErrInvalidRequest().WithDescription("this client must push its authorization requests to %s%s", p.o.Issuer, pathPAR)
	case req.CodeChallenge == "" && c.c.FAPI2():
		return 0, zoidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required for this client")
	case ac.dpopJKT != "" && !zoidc.ValidDPoPJKT(ac.dpopJKT):
		return 0, zoidc.ErrInvalidRequest().WithDescription("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
	}
	switch {
	case !slices.Contains(req.Scopes, zoidc.ScopeOpenID):
		return 0, zoidc.ErrInvalidScope().WithDescription("the openid scope is required")
	case req.CodeChallenge == "" && c.c.Public:
		return 0, zoidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required for public clients")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != zoidc.CodeChallengeMethodS256:
		return 0, zoidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256; plain is not supported")
	case req.CodeChallenge != "" && (len(req.CodeChallenge) != 43):
		return 0, zoidc.ErrInvalidRequest().WithDescription("code_challenge must be a base64url SHA-256 digest (43 characters)")
	case req.ResponseType != zoidc.ResponseTypeCode:
		return 0, &zoidc.Error{ErrorType: "unsupported_response_type", Description: "only response_type=code is supported"}
	case !slices.Contains(responseModes, string(req.ResponseMode)) && req.ResponseMode != "":
		// form_post would need the library's page with an inline script,
		// which the strict CSP blocks.
		return 0, zoidc.ErrInvalidRequest().WithDescription("response_mode must be query or fragment")
	case len(req.State) > 2048 || len(req.Nonce) > 2048 || len(req.LoginHint) > 256:
		return 0, zoidc.ErrInvalidRequest().WithDescription("a parameter is too long")
	}
	return p.requestedLevel(req, c, ac.claims)
}

func (s *storage) authRequest(ctx context.Context, id string) (*authRequest, error) {
	a := new(authRequest)
	if err := kindAuthRequest.Load(ctx, s.p.o.Sessions, id, a); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.authRequest(ctx, id)
	if err != nil {
		return nil, zoidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request").WithParent(err)
	}
	return a, nil
}

// codeUse remembers an exchanged code, under its hash, so that a replay
// by the client the code was for can revoke what the exchange issued. It
// keeps what the library checks before the client is authenticated
// (client, redirect URI, PKCE challenge), since the authorization request
// itself is gone by then, and what the exchange issued: one mark per
// exchange, written once its tokens exist.
type codeUse struct {
	AuthRequestID       string `json:"ar"`
	ClientID            string `json:"cl"`
	RedirectURI         string `json:"ru"`
	CodeChallenge       string `json:"cc,omitempty"`
	CodeChallengeMethod string `json:"ccm,omitempty"`

	// JTIDigest names the access token the code gave (session.JTIDigest);
	// records kept before it have the whole JTI.
	JTIDigest string    `json:"jtid,omitempty"`
	JTI       string    `json:"jti,omitempty"`
	JTIExpiry time.Time `json:"jti_exp,omitzero"`
	FamilyID  string    `json:"family,omitempty"`
}

// AuthRequestByCode looks the code up and consumes nothing: the library
// calls it before it authenticates the client and checks PKCE, and
// whoever merely saw a code (a browser history, a proxy log) must not be
// able to burn it or revoke what it issued. The code is taken when tokens
// are created (consumeCode), after both checks passed. A code already
// used yields a stand-in request, so that a replay by the authenticated
// client still revokes the tokens of the first exchange (RFC 6749 §4.1.2).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	h := session.Hash(code)
	var id string
	err := kindCode.Load(ctx, s.p.o.Sessions, h, &id)
	if errors.Is(err, session.ErrNotFound) {
		use, err := s.p.usedCode(ctx, h)
		if err != nil {
			return nil, err // never issued, or long gone
		}
		return &authRequest{ID: use.AuthRequestID, ClientID: use.ClientID, RedirectURI: use.RedirectURI,
			CodeChallenge: use.CodeChallenge, CodeChallengeMethod: use.CodeChallengeMethod,
			CodeHash: h, replayed: true}, nil
	} else if err != nil {
		return nil, err
	}
	return s.authRequest(ctx, id)
}

// consumeCode takes the code of a, atomically (GETDEL), once the client
// is authenticated and PKCE checked: of concurrent exchanges exactly one
// wins. The authorization request goes with it, in the same round trip:
// it lives only as long as its code, and the exchange has it in hand. A
// replayed code revokes what the first exchange issued.
func (s *storage) consumeCode(ctx context.Context, a *authRequest) error {
	if !a.replayed {
		var id string
		err := kindCode.TakeDropping(ctx, s.p.o.Sessions, a.CodeHash, &id, kindAuthRequest.Ref(a.ID))
		if err == nil {
			return nil // remembered with what it issued (issue)
		} else if !errors.Is(err, session.ErrNotFound) {
			return err
		}
	}
	s.codeReplayed(ctx, a.CodeHash)
	return zoidc.ErrInvalidGrant().WithDescription("the code was already used")
}

// rememberExchange keeps the mark of a's exchanged code with the access
// token it issued, for the replay window; a code that issued a refresh
// token too has its mark stored with that token (issue). A failure is
// logged: the tokens are out, and only a replay's revocation depends on
// it.
func (s *storage) rememberExchange(ctx context.Context, a *authRequest, jti string, jtiExpiry time.Time) {
	if err := s.p.keep(ctx, markCodeUsed, a.CodeHash, exchangeUse(a, jti, jtiExpiry, "")); err != nil {
		s.p.o.Log.ErrorContext(ctx, "remember an exchanged code", "err", err)
	}
}

// exchangeUse is the mark of a's exchanged code: what it issued.
func exchangeUse(a *authRequest, jti string, jtiExpiry time.Time, familyID string) codeUse {
	return codeUse{AuthRequestID: a.ID, ClientID: a.ClientID, RedirectURI: a.RedirectURI,
		CodeChallenge: a.CodeChallenge, CodeChallengeMethod: a.CodeChallengeMethod,
		JTIDigest: session.JTIDigest(jti), JTIExpiry: jtiExpiry, FamilyID: familyID}
}

func (s *storage) codeReplayed(ctx context.Context, codeHash string) {
	use, err := s.p.usedCode(ctx, codeHash)
	if err != nil {
		return // never issued, or long gone
	}
	if use.JTIDigest == "" && use.JTI == "" {
		// Kept by an older version, with what the exchange issued in a
		// mark of its own under the request's ID (same fields).
		s.p.kept(ctx, markIssued, use.AuthRequestID, &use)
	}
	switch {
	case use.JTIDigest != "":
		s.p.o.Sessions.RevokeTokenDigest(ctx, use.JTIDigest, use.JTIExpiry)
	case use.JTI != "":
		s.p.o.Sessions.RevokeToken(ctx, use.JTI, use.JTIExpiry)
	}
	if use.FamilyID != "" {
		s.p.o.Store.RevokeRefreshFamily(ctx, use.FamilyID, s.p.now())
	}
	s.p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + use.ClientID, Action: "oidc.code_replay", Outcome: "refused",
		ClientIP: server.ClientIP(ctx), Details: map[string]string{"revoked": "tokens issued by the code"}})
}

// SaveAuthCode is the library's way to bind a code, from its
// /authorize/callback, which is not served (server.go): Provider.Complete
// binds the code in the update that completes the request. Anything else
// asking is refused.
func (s *storage) SaveAuthCode(context.Context, string, string) error {
	return errCodeOnCompletion
}

var errCodeOnCompletion = errors.New("authorization codes are bound when the request is completed")

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if id == "" {
		return nil // a refresh request posing as an auth request
	}
	return kindAuthRequest.Delete(ctx, s.p.o.Sessions, id)
}

// beginLogin is the client's LoginURL: hand the request to the login
// engine, from the browser the request is bound to. A request not bound
// yet (it came by a cross-site POST, where the binding cookie is not
// readable) is bound now to this browser, atomically: the first browser
// to present it keeps it.
func (p *Provider) beginLogin(w http.ResponseWriter, r *http.Request) {
	p.beginLoginOf(w, r, nil)
}

// beginLoginOf is beginLogin for the request made, when the caller has
// just stored it (a GET /authorize going on to its login): it is not read
// back from the store. It is bound to this browser already.
func (p *Provider) beginLoginOf(w http.ResponseWriter, r *http.Request, made *authRequest) {
	ctx := r.Context()
	browser := p.o.Login.Browser(w, r)
	id := r.PathValue("id")
	a := made
	var err error
	if a == nil || a.ID != id {
		a = new(authRequest)
		err = kindAuthRequest.Load(ctx, p.o.Sessions, id, a)
	}
	if err == nil && a.Done_ {
		err = errDone
	}
	if err == nil && a.Browser == "" {
		// Not bound yet: bind it, atomically, to the first browser.
		err = kindAuthRequest.Update(ctx, p.o.Sessions, id, a, func() error {
			if a.Done_ {
				return errDone
			}
			if a.Browser == "" {
				a.Browser = browser
			}
			return nil
		})
	}
	if err != nil {
		p.o.Renderer.Gone(w, r, http.StatusNotFound, server.Locale(r, nil), "load authorization request", err)
		return
	}
	if !p.o.Login.SameBrowser(r, a.Browser) {
		p.o.Log.WarnContext(ctx, "authorization request continued from another browser", "client", a.ClientID)
		p.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, a.UILocales), "err_other_browser")
		return
	}
	c, err := p.st.client(r.Context(), a.ClientID)
	if err != nil {
		p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, a.UILocales), "err_unknown_client")
		return
	}
	req := login.Request{
		Protocol:     Protocol,
		RequestID:    a.ID,
		ClientID:     c.c.ID,
		ClientName:   c.c.Name,
		MinLevel:     assurance.Level(a.MinLevel),
		ClientMaxAge: c.c.MaxAuthAge,
		NoPrompt:     slices.Contains(a.Prompt, zoidc.PromptNone),
		LoginHint:    a.LoginHint,
		UILocales:    a.UILocales,
		Portal:       Portal(c.c.ID),
		PortalLogo:   c.c.LogoURL,
		Attributes:   releases(c.c, claimScopes(a.Scopes, a.Claims)),
		LegalBasis:   c.c.LegalBasis,
		ForceConsent: slices.Contains(a.Prompt, zoidc.PromptConsent),
	}
	// The library turns prompt=login into max_age=0.
	if a.MaxAge != nil {
		maxAge := time.Duration(*a.MaxAge) * time.Second
		req.MaxAge, req.Since = &maxAge, a.CreatedAt
	}
	p.o.Login.Begin(w, r, req)
}

// codeGrace is how much longer than its code a completed request lives:
// the code is stored after the request's update, and an exchange at the
// last moment of the code must still find the request.
const codeGrace = 10 * time.Second

// errDone: the authorization request was already answered; to the
// browser, as gone as one that expired.
var errDone = fmt.Errorf("authorization request already answered: %w", session.ErrNotFound)

// Complete implements login.Protocol: bind the session to the request and
// answer the portal in this same response (the code in a redirect to its
// redirect URI). There is no callback URL between the login and the
// portal: a code only ever reaches the browser the request is bound to.
func (p *Provider) Complete(w http.ResponseWriter, r *http.Request, id string, done login.Completion) {
	ctx := r.Context()
	sess, res := done.Session, done.Result
	// The code is bound to the request in the same update that completes
	// it, so a request has one code, and only once completed; the code
	// becomes exchangeable below, once the session records the portal.
	// From then on the request is only the code's: it lives as long as
	// the code (and a little more, as the code is stored after it), not
	// the rest of the login's time, holding the citizen's identifiers.
	code, err := op.BuildAuthRequestCode(&authRequest{ID: id}, p.op.Crypto())
	if err != nil {
		p.o.Log.ErrorContext(ctx, "issue an authorization code", "err", err)
		p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	codeHash := session.Hash(code)
	a := new(authRequest)
	var cl *client
	err = kindAuthRequest.UpdateFor(ctx, p.o.Sessions, id, a, p.o.Lifetimes.Code+codeGrace, func() error {
		if a.Done_ || a.CodeHash != "" {
			return errDone
		}
		if !p.o.Login.SameBrowser(r, a.Browser) {
			return errOtherBrowser
		}
		c, err := p.st.client(ctx, a.ClientID)
		if err != nil {
			return err
		}
		cl = c
		a.Done_ = true
		a.CitizenID = sess.CitizenID
		a.Subject = p.subject(cl.c, done.Citizen)
		a.SessionID = sess.SID
		a.AuthTime = res.AuthTime
		a.ACR = p.o.ACR.ACR(res.Level) // the level actually reached, never an echo
		a.AMR = res.AMR
		a.CodeHash = codeHash
		return nil
	})
	if errors.Is(err, errOtherBrowser) {
		p.o.Log.WarnContext(ctx, "authorization request completed from another browser", "client", a.ClientID)
		p.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, a.UILocales), "err_other_browser")
		return
	} else if err != nil {
		p.o.Renderer.Gone(w, r, http.StatusBadRequest, server.Locale(r, nil), "complete authorization request", err)
		return
	}
	// Recorded before the code leaves: ending the session must reach
	// every portal that took part.
	if !sess.Joined(Protocol, cl.c.ID) {
		if _, err := p.o.Sessions.Join(ctx, sess, session.Participant{Protocol: Protocol, ID: cl.c.ID}); err != nil {
			p.o.Log.ErrorContext(ctx, "record session participant", "err", err)
			p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, a.UILocales), "err_generic")
			return
		}
	}
	err = kindCode.PutNew(ctx, p.o.Sessions, codeHash, a.ID, p.o.Lifetimes.Code)
	var to string
	if err == nil {
		params := url.Values{"code": {code}}
		if a.State != "" {
			params.Set("state", a.State)
		}
		to, err = p.authResponseURL(a.RedirectURI, a.ResponseMode, params)
	}
	if err != nil {
		p.o.Log.ErrorContext(ctx, "issue an authorization code", "err", err)
		p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, a.UILocales), "err_generic")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

var errOtherBrowser = errors.New("authorization request bound to another browser")

// Fail implements login.Protocol: answer the portal with a standard error.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, id string, reason error) {
	a, err := p.st.authRequest(r.Context(), id)
	if err != nil {
		p.o.Renderer.Gone(w, r, http.StatusBadRequest, server.Locale(r, nil), "load authorization request", err)
		return
	}
	var e *zoidc.Error
	switch {
	case errors.Is(reason, login.ErrLoginRequired):
		e = zoidc.ErrLoginRequired()
	case errors.Is(reason, login.ErrInteractionRequired):
		e = zoidc.ErrInteractionRequired().WithDescription("the session's authentication level is below what the client requires")
	case errors.Is(reason, login.ErrUnmet):
		// OpenID Connect Core 1.0 errata set 2, §3.1.2.6.
		e = &zoidc.Error{ErrorType: "unmet_authentication_requirements",
			Description: "the citizen has no authenticator that reaches the requested level"}
	case errors.Is(reason, login.ErrConsentRequired):
		e = &zoidc.Error{ErrorType: "consent_required", Description: "the citizen has not approved the data the client asks for"}
	case errors.Is(reason, login.ErrConsentDenied):
		e = zoidc.ErrAccessDenied().WithDescription("the citizen declined to share the requested data")
	case errors.Is(reason, login.ErrCancelled):
		e = zoidc.ErrAccessDenied().WithDescription("the citizen went back to the service without logging in")
	case errors.Is(reason, login.ErrAccessDenied):
		e = zoidc.ErrAccessDenied()
	default:
		e = zoidc.ErrServerError()
	}
	p.st.DeleteAuthRequest(r.Context(), id)
	to, err := p.authErrorURL(a.RedirectURI, a.ResponseMode, a.State, e)
	if err != nil {
		p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, a.UILocales), "err_generic")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// client loads an enabled client.
func (s *storage) client(ctx context.Context, id string) (*client, error) {
	if id == "" || len(id) > 256 {
		return nil, zoidc.ErrInvalidClient().WithDescription("unknown client")
	}
	c, err := s.p.clients.get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, zoidc.ErrInvalidClient().WithDescription("unknown client").WithParent(err)
	} else if err != nil {
		return nil, unavailable(err)
	}
	if c.Disabled {
		return nil, zoidc.ErrInvalidClient().WithDescription("client is disabled")
	}
	return &client{c: c, lifetimes: s.p.o.Lifetimes}, nil
}
