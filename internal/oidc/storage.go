package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// storage implements op.Storage over CitizenID's stores.
type storage struct {
	p *Provider
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func (s *storage) Health(ctx context.Context) error {
	if err := s.p.o.Store.Ping(ctx); err != nil {
		return err
	}
	return s.p.o.Sessions.Ping(ctx)
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	return s.client(ctx, id)
}

// HashClientSecret is how client secrets are stored. Secrets are at least
// 32 random-looking characters (enforced where they are set), so a plain
// SHA-256 is enough and keeps the token endpoint fast.
func HashClientSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(h[:])
}

// AuthorizeClientIDSecret checks a client secret, throttled per client
// and client address: past the free failures, every secret from that
// address is refused until the wait ends, the right one too, and a
// portal's own address is never slowed by an attacker's guesses
// elsewhere.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	// Client secrets are long and random, and a portal sends many token
	// requests at once: a throttled portal waits, but right secrets are
	// never counted and never wait for each other (session.Store.Wait),
	// and a portal that just authenticated is not asked again for a
	// moment (secretsUnthrottled).
	key := session.ThrottleKey("client", c.c.ID, server.ClientIP(ctx))
	now := time.Now()
	gen, unthrottled := s.p.unthrottled.check(key, now)
	if !unthrottled {
		wait, err := s.p.o.Sessions.Wait(ctx, key, s.p.o.ClientThrottle)
		if err != nil {
			return zoidc.ErrServerError().WithParent(err)
		}
		if wait > 0 {
			s.p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + c.c.ID, Action: "oidc.client_auth", Target: "client:" + c.c.ID,
				Outcome: "throttled", ClientIP: server.ClientIP(ctx), Details: map[string]string{"retry_after": wait.Round(time.Second).String()}})
			return zoidc.ErrInvalidClient().WithDescription("too many failed client authentications: try again in %d seconds", int(wait.Seconds()+0.999))
		}
	}
	if !SecretMatches(c.c, secret, s.p.now()) {
		s.p.o.Audit.Record(ctx, audit.Event{Actor: "client:" + c.c.ID, Action: "oidc.client_auth", Target: "client:" + c.c.ID,
			Outcome: "failure", ClientIP: server.ClientIP(ctx)})
		if _, err := s.p.o.Sessions.Count(ctx, key, s.p.o.ClientThrottle); err != nil {
			s.p.o.Log.WarnContext(ctx, "throttle", "err", err)
		}
		s.p.unthrottled.forget(key)
		return zoidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	if !unthrottled {
		s.p.unthrottled.remember(key, now, gen)
	}
	return nil
}

// SecretMatches reports whether secret authenticates the confidential
// client c at now: its current secret, or the previous one while the
// rotation's overlap lasts (before PreviousSecretUntil).
func SecretMatches(c *store.Client, secret string, now time.Time) bool {
	if c.Public || c.SecretHash == "" {
		return false
	}
	h := []byte(HashClientSecret(secret))
	current := subtle.ConstantTimeCompare(h, []byte(c.SecretHash)) == 1
	previous := c.PreviousSecretHash != "" && now.Before(c.PreviousSecretUntil) &&
		subtle.ConstantTimeCompare(h, []byte(c.PreviousSecretHash)) == 1
	return current || previous
}

// subject is what a portal knows the citizen as: pairwise by default
// (stable per citizen and sector, so portals of different agencies cannot
// correlate), or the citizen's opaque ID for clients configured "public".
// Never the citizen number.
func (p *Provider) subject(c *store.Client, citizen *store.Citizen) string {
	if c.SubjectType == "public" {
		return citizen.ID
	}
	sector := Sector{Protocol: "oidc", Kind: "client", Name: c.ID}
	if c.SectorIdentifier != "" {
		sector = Sector{Protocol: "oidc", Kind: "sector", Name: c.SectorIdentifier}
	}
	return PairwiseSubject(p.o.PairwiseSecret, c.SubjectScheme, sector, citizen.ID)
}

// Sector is what a pairwise identifier is unlinkable across: one OIDC
// client, a sector an owner gave several clients of one agency, or one
// SAML service provider.
type Sector struct {
	Protocol string // "oidc" or "saml"
	Kind     string // "client", "sector" or "sp"
	Name     string // the client ID, sector identifier or entity ID
}

// Subject schemes (store.Client.SubjectScheme).
const (
	// SchemeCurrent puts the protocol and the kind of sector in the
	// derivation: no client can claim another's identifiers by naming a
	// sector after it, and no SAML entity ID named like an OIDC client
	// shares its identifiers.
	SchemeCurrent = 0
	// SchemeLegacy is the derivation of relying parties registered before
	// SchemeCurrent (sector name only); they keep it, so every subject
	// and NameID a portal already knows stays the same.
	SchemeLegacy = 1
)

// PairwiseSubject is the identifier of a citizen in a sector: stable, and
// unlinkable across sectors without the secret.
func PairwiseSubject(secret []byte, scheme int, sector Sector, citizenID string) string {
	m := hmac.New(sha256.New, secret)
	if scheme == SchemeLegacy {
		m.Write([]byte("citizenid pairwise subject v1\x00"))
		m.Write([]byte(sector.Name))
		m.Write([]byte{0})
		m.Write([]byte(citizenID))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	m.Write([]byte("citizenid pairwise subject v2"))
	for _, part := range []string{sector.Protocol, sector.Kind, sector.Name, citizenID} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SetUserinfoFromScopes is not used: claims need the citizen behind the
// request, which SetUserinfoFromRequest has.
func (s *storage) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims, including sid.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	tr, ok := req.(tokenRequest)
	if !ok {
		return fmt.Errorf("unsupported token request %T", req)
	}
	var claims []string
	if cr, ok := req.(interface{ claimsRef() []string }); ok {
		claims = cr.claimsRef()
	}
	var citizen *store.Citizen
	if l, ok := req.(interface{ loadedCitizen() *store.Citizen }); ok {
		citizen = l.loadedCitizen()
	}
	c, err := s.fillUserinfo(ctx, info, citizen, tr.citizenRef(), req.GetClientID(), req.GetSubject(), scopes, claims)
	if err != nil {
		return err
	}
	if err := s.certificateClaims(ctx, info, tr.citizenRef(), req.GetClientID(), tr.sessionRef(), claimScopes(scopes, claims)); err != nil {
		return err
	}
	if sid := tr.sessionRef(); sid != "" {
		info.AppendClaims("sid", sid)
	}
	var acr string
	if a, ok := req.(interface{ GetACR() string }); ok {
		acr = a.GetACR()
	}
	// Recorded before the library signs and sends the ID token (ledger.go).
	return s.recordRelease(ctx, info, tr.citizenRef(), c, tr.sessionRef(), acr, store.EndpointToken)
}

// wantedClaims are the claims the scopes release plus those asked for by
// name (already limited to what c may receive), each only if c may
// receive it.
func wantedClaims(c *client, scopes, claims []string) map[string]bool {
	want := map[string]bool{}
	for claim, scope := range claimScope {
		if slices.Contains(scopes, scope) || slices.Contains(claims, claim) {
			want[claim] = true
		}
	}
	for claim, scope := range claimScope {
		if slices.Contains(ExtraScopes, scope) && !slices.Contains(c.c.Scopes, scope) {
			delete(want, claim)
		}
	}
	return want
}

// claimScopes adds to scopes the scope of each claim asked for by name:
// what the citizen is asked to approve covers every claim that may leave.
func claimScopes(scopes, claims []string) []string {
	out := slices.Clone(scopes)
	for _, n := range claims {
		if sc := claimScope[n]; sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// fillUserinfo fills the claims the scopes (and the claims parameter)
// release and returns the client it loaded. citizen, when not nil, is the
// citizen as the request already loaded them in this request (a refresh
// grant's check), not loaded again.
func (s *storage) fillUserinfo(ctx context.Context, info *zoidc.UserInfo, citizen *store.Citizen, citizenID, clientID, subject string, scopes, claims []string) (*client, error) {
	if citizen == nil || citizen.ID != citizenID {
		var err error
		citizen, err = s.p.o.Store.CitizenByID(ctx, citizenID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, zoidc.ErrAccessDenied().WithDescription("unknown citizen")
		} else if err != nil {
			return nil, unavailable(fmt.Errorf("load citizen: %w", err))
		}
	}
	if citizen.Disabled {
		return nil, zoidc.ErrAccessDenied().WithDescription("account disabled")
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	info.Subject = subject
	want := wantedClaims(c, scopes, claims)
	if want["name"] {
		info.Name = citizen.Name
	}
	if want["birthdate"] {
		info.Birthdate = citizen.Birthdate
	}
	if want[ClaimIdentityLevel] {
		info.AppendClaims(ClaimIdentityLevel, max(citizen.IdentityLevel, 1))
	}
	if citizen.Email != "" && (want["email"] || want["email_verified"]) {
		info.Email = citizen.Email
		info.EmailVerified = zoidc.Bool(citizen.EmailVerified)
	}
	if citizen.Phone != "" && (want["phone_number"] || want["phone_number_verified"]) {
		info.PhoneNumber = citizen.Phone
		info.PhoneNumberVerified = zoidc.Bool(citizen.PhoneVerified)
	}
	if want[ClaimCitizenNumber] {
		info.AppendClaims(ClaimCitizenNumber, citizen.Number)
	}
	return c, nil
}

// SetUserinfoFromToken is op.Storage's; userinfo is answered by
// opServer.UserInfo from the token precheckUserinfo verified.
func (s *storage) SetUserinfoFromToken(context.Context, *zoidc.UserInfo, string, string, string) error {
	return errors.New("userinfo is answered by opServer.UserInfo")
}

// userinfo fills the claims live access token t releases, recorded in
// the ledger before they leave.
func (s *storage) userinfo(ctx context.Context, info *zoidc.UserInfo, t *accessTokenID, subject string) error {
	c, err := s.fillUserinfo(ctx, info, nil, t.CitizenID, t.ClientID, subject, t.Scopes, t.Claims)
	if err != nil {
		return err
	}
	if err := s.certificateClaims(ctx, info, t.CitizenID, t.ClientID, t.SessionID, claimScopes(t.Scopes, t.Claims)); err != nil {
		return unavailable(err)
	}
	// Claims whose release cannot be recorded do not leave (ledger.go).
	return unavailable(s.recordRelease(ctx, info, t.CitizenID, c, t.SessionID, t.ACR, store.EndpointUserinfo))
}

// SetIntrospectionFromToken is op.Storage's; introspection is answered by
// opServer.Introspect.
func (s *storage) SetIntrospectionFromToken(context.Context, *zoidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is answered by opServer.Introspect")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("jwt profile is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile is not supported")
}

// TerminateSession is required by the interface; TerminateSessionFromRequest is used.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the SSO session of the browser (or the
// one named by the id_token_hint's sid) through the login engine's End,
// and returns where to send the browser.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	hr, ok := ctx.Value(httpKey{}).(httpPair)
	if !ok {
		return "", errors.New("end session outside an HTTP request")
	}
	sess := s.p.o.Login.Session(hr.r)
	if sess == nil && req.IDTokenHintClaims != nil {
		if sid, _ := req.IDTokenHintClaims.Claims["sid"].(string); sid != "" {
			if found, err := s.p.o.Sessions.BySID(ctx, sid); err == nil {
				sess = found
			}
		}
	}
	how := login.How{Reason: "oidc end_session", W: hr.w, R: hr.r, Then: req.RedirectURI}
	if how.Then == pathLoggedOut && req.ClientID != "" {
		how.Then += "?portal=" + url.QueryEscape(req.ClientID)
	}
	if sess != nil {
		how.Actor = "citizen:" + sess.CitizenID
	}
	return s.p.o.Login.End(ctx, sess, how), nil
}

type httpKey struct{}

type httpPair struct {
	w http.ResponseWriter
	r *http.Request
}

// signingKey adapts keys.SigningKey to op.SigningKey.
type signingKey struct{ k *keys.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k signingKey) Key() any   { return k.k.Signer }
func (k signingKey) ID() string { return k.k.ID }

// SigningKey is the default algorithm's key, for whatever the library
// signs itself; ID tokens take their client's (createIDToken).
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.signingKey(ctx, s.p.o.Keys.DefaultAlgorithm())
}

func (p *Provider) signingKey(ctx context.Context, alg string) (op.SigningKey, error) {
	k, err := p.o.Keys.SigningFor(ctx, alg)
	if err != nil {
		return nil, unavailable(err)
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	algs := s.p.o.Keys.Algorithms()
	out := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out, nil
}

// publicKey adapts keys.PublicKey to op.Key.
type publicKey struct{ k keys.PublicKey }

func (k publicKey) ID() string                         { return k.k.ID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Key }

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	pub, err := s.p.o.Keys.Published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(pub))
	for i, k := range pub {
		out[i] = publicKey{k}
	}
	return out, nil
}

// precheckAuthorize renders an error page, never a redirect, when the
// client is unknown or the redirect URI is not registered; everything else
// goes to the library, which answers with standard error redirects.
func (p *Provider) precheckAuthorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			p.o.Renderer.Error(w, r, http.StatusBadRequest, server.Locale(r, nil), "err_generic")
			return
		}
		lang := server.Locale(r, strings.Fields(r.Form.Get("ui_locales")))
		// refused answers err with a page: 503 when a store failed (logged
		// as what), else 400 with the message key.
		refused := func(what string, err error, key string) bool {
			switch {
			case isUnavailable(err):
				p.o.Log.ErrorContext(r.Context(), "authorize: "+what, "err", err)
				p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_unavailable")
			case err != nil:
				p.o.Renderer.Error(w, r, http.StatusBadRequest, lang, key)
			}
			return err != nil
		}
		// A pushed request's parameters replace the request's (par.go).
		viaPAR := r.Form.Has("request_uri")
		if viaPAR {
			params, err := p.fromPAR(r.Context(), r.Form)
			if refused("load a pushed request", err, "err_request_uri") {
				return
			}
			r.Form = params
		}
		c, err := p.st.client(r.Context(), r.Form.Get("client_id"))
		if refused("load client", err, "err_unknown_client") {
			return
		}
		if len(r.Form["redirect_uri"]) != 1 || !RedirectURIAllowed(c.c, r.Form.Get("redirect_uri")) {
			p.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_redirect_uri")
			return
		}
		form, ac, err := p.requestParams(r.Context(), r.Form, c, viaPAR)
		if err != nil {
			p.redirectError(w, r, form, err)
			return
		}
		// A GET is a top-level navigation that carries the browser's
		// binding cookie: bind the request here, and go on to its login in
		// this response (loginHop). A cross-site POST does not carry the
		// cookie; its request is bound at the login URL (beginLogin), where
		// the browser arrives by a redirect, a navigation of its own.
		get := r.Method == http.MethodGet
		var hop *loginHop
		if get {
			ac.browser = p.o.Login.Browser(w, r)
			hop = &loginHop{ResponseWriter: w}
			ac.hop = hop
		}
		r2 := r.Clone(context.WithValue(r.Context(), authCtxKey{}, ac))
		r2.Form, r2.PostForm = form, url.Values{}
		if !get {
			next.ServeHTTP(w, r2)
			return
		}
		next.ServeHTTP(hop, r2)
		if hop.id != "" {
			w.Header().Del("Location")
			w.Header().Del("Content-Type")
			r2.SetPathValue("id", hop.id)
			p.beginLoginOf(w, r2, hop.made)
		}
	})
}

// loginHop holds back the library's answer to a GET /authorize when it
// is the redirect to the stored request's login URL, so that the login
// begins in the same response: one redirect fewer for every citizen.
// The hop checked nothing this response cannot (the request is bound to
// this browser already, and beginLogin checks it again). Every other
// answer passes through.
type loginHop struct {
	http.ResponseWriter
	id   string       // the held-back request's ID
	made *authRequest // the request CreateAuthRequest stored (its ID is id)
}

func (h *loginHop) WriteHeader(code int) {
	if h.id == "" && code == http.StatusFound {
		if rest, ok := strings.CutPrefix(h.Header().Get("Location"), pathLogin); ok {
			if id, err := url.PathUnescape(rest); err == nil && id != "" && !strings.ContainsAny(id, "/?#") {
				h.id = id
				return
			}
		}
	}
	h.ResponseWriter.WriteHeader(code)
}

// Write drops the body of a held-back redirect.
func (h *loginHop) Write(b []byte) (int, error) {
	if h.id != "" {
		return len(b), nil
	}
	return h.ResponseWriter.Write(b)
}

func (h *loginHop) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// precheckUserinfo verifies the access token of a userinfo request
// before the library sees it, answering 401 with the WWW-Authenticate of
// RFC 6750 (Bearer) or RFC 9449 (DPoP): a revoked or session-ended
// token, a DPoP-bound token sent as Bearer, a DPoP proof that fails. The
// verified token goes on in the context to UserInfo.
func (p *Provider) precheckUserinfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A token in the URL ends up in logs and histories (RFC 6750 §2.3):
		// only the Authorization header, or a form body, carries one.
		if r.URL.Query().Has("access_token") {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="send the access token in the Authorization header"`)
			http.Error(w, "invalid_request", http.StatusBadRequest)
			return
		}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if r.Header.Get("Authorization") == "" && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
			if err := r.ParseForm(); err == nil {
				scheme, tok = "Bearer", r.PostForm.Get("access_token")
			}
		}
		dpop := strings.EqualFold(scheme, "DPoP")
		if (!dpop && !strings.EqualFold(scheme, "Bearer")) || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer, DPoP algs="ES256 EdDSA PS256"`)
			http.Error(w, "invalid_request", http.StatusUnauthorized)
			return
		}
		refuse := func(typ, desc string) {
			name := "Bearer"
			if dpop || typ != "invalid_token" {
				name = "DPoP"
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`%s error="%s", error_description="%s"`, name, typ, desc))
			http.Error(w, typ, http.StatusUnauthorized)
		}
		ctx := r.Context()
		vt, err := p.verifyAccessToken(ctx, tok)
		switch {
		case isUnavailable(err):
			p.o.Log.ErrorContext(ctx, "userinfo: check the access token", "err", err)
			serverUnavailable(w)
			return
		case err != nil:
			refuse("invalid_token", "the access token is not active")
			return
		case !dpop && vt.t.JKT != "":
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="the access token is bound to a DPoP key: send it with the DPoP scheme and a proof"`)
			http.Error(w, "invalid_token", http.StatusUnauthorized)
			return
		case dpop && vt.t.JKT == "":
			refuse("invalid_token", "the access token is not bound to a DPoP key")
			return
		}
		if dpop {
			c, err := p.st.client(ctx, vt.t.ClientID)
			if err != nil {
				refuse("invalid_token", "the access token's client is not active")
				return
			}
			jkt, derr := p.checkDPoP(ctx, r.Header, r.Method, p.o.Issuer+pathUserinfo, tok, c.c.RequireDPoP || c.c.FAPI2())
			switch {
			case derr != nil && derr.ErrorType == zoidc.ServerError:
				serverUnavailable(w)
				return
			case derr != nil:
				if derr.ErrorType == "use_dpop_nonce" {
					w.Header().Set("DPoP-Nonce", p.DPoPNonce())
				}
				refuse(string(derr.ErrorType), derr.Description)
				return
			case jkt != vt.t.JKT:
				refuse("invalid_dpop_proof", "the DPoP proof is not of the key the access token is bound to")
				return
			}
		}
		ctx = context.WithValue(ctx, verifiedKey{}, vt)
		if !dpop {
			// The library finds a Bearer token itself, in the header (any
			// case) or the form: only a DPoP one must be shown to it as
			// Bearer, which takes a copy of the headers.
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		r2 := r.Clone(ctx)
		r2.Header.Set("Authorization", "Bearer "+tok)
		next.ServeHTTP(w, r2)
	})
}

// verifiedKey carries the access token precheckUserinfo verified.
type verifiedKey struct{}

// UserInfo answers with the claims the verified access token releases.
func (s *opServer) UserInfo(ctx context.Context, r *op.Request[zoidc.UserInfoRequest]) (*op.Response, error) {
	vt, ok := ctx.Value(verifiedKey{}).(*verifiedToken)
	if !ok {
		return nil, op.NewStatusError(zoidc.ErrInvalidRequest().WithDescription("access token missing"), http.StatusUnauthorized)
	}
	info := new(zoidc.UserInfo)
	if err := s.p.st.userinfo(ctx, info, vt.t, vt.subject); isUnavailable(err) {
		return nil, op.NewStatusError(err, http.StatusServiceUnavailable)
	} else if err != nil {
		return nil, op.NewStatusError(err, http.StatusForbidden)
	}
	return op.NewResponse(info), nil
}
