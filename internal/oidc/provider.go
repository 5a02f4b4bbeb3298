package oidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Options configures the provider.
type Options struct {
	Issuer   string
	Store    store.Store
	Sessions *session.Store
	Keys     *keys.Manager
	// Sealer encrypts the contents of access-token IDs (jti), so userinfo
	// needs no write per token and portals learn nothing from a jti.
	Sealer   *keys.Sealer
	Login    *login.Engine
	Audit    *audit.Logger
	Renderer *server.Renderer
	Log      *slog.Logger
	ACR      *assurance.Table
	// PairwiseSecret keys pairwise subjects; it must never change.
	PairwiseSecret []byte
	Lifetimes      Lifetimes
	AuthRequestTTL time.Duration
	// ClientThrottle limits wrong client secrets per client and client
	// address (a portal's own address keeps working).
	ClientThrottle session.ThrottlePolicy
	// Ledger records every release of claims before it leaves
	// (ledger.go). Required: without it no claim may leave.
	Ledger Recorder
	// ClientKeys finds clients' public keys (private_key_jwt, request
	// objects). Required.
	ClientKeys *clientkeys.Fetcher
	// ClientCacheRefresh is how often clients are checked for changes
	// (clientcache.go).
	ClientCacheRefresh time.Duration
	// RequirePAR: every client must push its authorization requests
	// (RFC 9126 require_pushed_authorization_requests).
	RequirePAR bool
}

// Lifetimes are the defaults a client may override.
type Lifetimes struct {
	AccessToken, IDToken, RefreshToken, Code time.Duration
}

// Provider is the OpenID Provider.
type Provider struct {
	o   Options
	op  *op.Provider
	st  *storage
	srv *opServer
	// discovery is the provider metadata, prepared once (discovery.go).
	discovery preparedJSON
	// dpopKey keys the DPoP nonces (dpop.go).
	dpopKey [32]byte
	// clients caches clients (clientcache.go).
	clients *clientCache
	// unthrottled spares a portal's requests the throttle's round trip
	// (clientcache.go).
	unthrottled *secretsUnthrottled
	// jwks is the key set, prepared once per key change (discovery.go).
	jwks jwksCache
	// atAlgs are the algorithms a JWT access token may be signed with
	// (jwtverify.go): the configured ones.
	atAlgs []string
}

// Paths of the endpoints (zitadel/oidc defaults, listed once here).
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/oauth/token"
	pathIntrospect = "/oauth/introspect"
	pathUserinfo   = "/userinfo"
	pathRevoke     = "/revoke"
	pathEndSession = "/end_session"
	pathKeys       = "/keys"
	pathLoggedOut  = "/logged-out"
	pathLogin      = "/login/oidc/"
)

// Protocol is the provider's name with the login engine; the composition
// root registers it.
const Protocol = "oidc"

// New builds the provider.
func New(o Options) (*Provider, error) {
	if o.Ledger == nil {
		return nil, errors.New("oidc provider: a data-release ledger is required")
	}
	if o.ClientKeys == nil {
		return nil, errors.New("oidc provider: a client key fetcher is required")
	}
	p := &Provider{o: o}
	p.clients = newClientCache(o.Store, o.ClientCacheRefresh)
	p.unthrottled = newSecretsUnthrottled(o.ClientCacheRefresh)
	p.dpopKey = sha256.Sum256(append([]byte("citizenid dpop nonces\x00"), o.PairwiseSecret...))
	p.st = &storage{p: p}
	p.atAlgs = o.Keys.Algorithms()
	cfg := &op.Config{
		CryptoKey:                sha256.Sum256(append([]byte("citizenid opaque tokens\x00"), o.PairwiseSecret...)),
		DefaultLogoutRedirectURI: pathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.Vietnamese, language.English},
		SupportedScopes:          supportedScopes,
		SupportedClaims:          supportedClaims,
		// Back-channel logout (backchannel.go): the sid is always sent.
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	var opts []op.Option
	if strings.HasPrefix(o.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	opts = append(opts, op.WithLogger(o.Log),
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(o.Keys.Algorithms()...)),
		op.WithAccessTokenVerifierOpts(op.WithSupportedAccessTokenSigningAlgorithms(o.Keys.Algorithms()...)))
	prov, err := op.NewProvider(cfg, p.st, op.StaticIssuer(o.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	p.op = prov
	p.srv = &opServer{LegacyServer: op.NewLegacyServer(prov, endpoints()), p: p}
	// However a session ends (end_session, the account page, an
	// administrator), the refresh tokens issued in it end with it.
	o.Login.OnLogout(p.sessionEnded)
	return p, nil
}

// Mount registers the endpoints.
func (p *Provider) Mount(mux *http.ServeMux) {
	lib := p.srv.handler()
	mux.HandleFunc("/.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("/.well-known/oauth-authorization-server", p.serveDiscovery)
	mux.Handle(pathAuthorize, p.precheckAuthorize(lib))
	mux.Handle(pathToken, noStore(p.withDPoPNonce(p.clientAuthMethod(lib))))
	mux.Handle(pathPAR, p.clientAuthMethod(http.HandlerFunc(p.servePAR)))
	mux.Handle(pathIntrospect, noStore(p.clientAuthMethod(lib)))
	mux.Handle(pathUserinfo, noStore(p.precheckUserinfo(lib)))
	mux.Handle(pathRevoke, p.clientAuthMethod(lib))
	mux.Handle(pathEndSession, p.endSession(lib))
	mux.HandleFunc(pathKeys, p.serveKeys)
	mux.HandleFunc("GET "+pathLogin+"{id}", p.beginLogin)
	mux.HandleFunc("GET "+pathLoggedOut, p.loggedOut)
}

// LoggedOutPage is the view model of logged_out.html: the portal the
// citizen logged out from, when known, with a way back to it.
type LoggedOutPage struct {
	PortalName string
	PortalURL  string
}

// loggedOut is the page after a logout without a post-logout redirect:
// a way to log in again, and back to the portal (?portal=client id) at
// the origin of its first redirect URI.
func (p *Provider) loggedOut(w http.ResponseWriter, r *http.Request) {
	var pg LoggedOutPage
	if id := r.URL.Query().Get("portal"); id != "" {
		if c, err := p.st.client(r.Context(), id); err == nil && len(c.c.RedirectURIs) > 0 {
			if u, err := url.Parse(c.c.RedirectURIs[0]); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				pg = LoggedOutPage{PortalName: c.c.Name, PortalURL: u.Scheme + "://" + u.Host + "/"}
			}
		}
	}
	p.o.Renderer.Render(w, r, http.StatusOK, "logged_out", server.Locale(r, nil), "logged_out_title", pg)
}

// Health is used by /readyz.
func (p *Provider) Health(ctx context.Context) error { return p.st.Health(ctx) }

var supportedScopes = []string{"openid", "profile", "email", "phone", "offline_access", ScopeCitizenNumber, ScopeCertificate}

var supportedClaims = []string{
	"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash", "c_hash",
	"name", "birthdate", "email", "email_verified", "phone_number", "phone_number_verified",
	ClaimCitizenNumber, ClaimIdentityLevel, ClaimCertThumbprint, ClaimCertSerial,
}

// ScopeCitizenNumber asks for the citizen number; only clients allowed to
// request it get it.
const (
	ScopeCitizenNumber = "citizen_number"
	ClaimCitizenNumber = "citizen_number"
	ClaimIdentityLevel = "identity_level"
)

func (p *Provider) now() time.Time { return p.o.Sessions.Now() }
