package saml

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Store is the slice of storage the identity provider needs.
type Store interface {
	store.Citizens
	store.ServiceProviders
	// RevokeRefreshTokensBySession: a single logout ends the SSO session
	// for every relying party, OIDC ones included.
	RevokeRefreshTokensBySession(ctx context.Context, sessionID string, now time.Time, then ...store.OutboxMessage) error
	// EnqueueOutbox queues SOAP logouts (soap.go).
	EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error
}

// Recorder writes one data-release ledger entry and returns once it is
// durable (internal/ledger.Writer).
type Recorder interface {
	Record(ctx context.Context, e store.LedgerEntry) error
}

// Options configures the identity provider.
type Options struct {
	// Issuer is CitizenID's base URL; the SAML endpoints hang below it.
	Issuer string
	// EntityID is the IdP's entity ID. Service providers know CitizenID by
	// it, so it must never change. Empty means Issuer + "/saml/metadata".
	EntityID string
	// SignMetadata signs /saml/metadata with the active key.
	SignMetadata bool
	Store        Store
	Sessions     *session.Store
	Keys         *keys.Manager
	// Sealer opens the private key of a published key that is not active
	// yet, once, to self-sign its certificate (see certificate).
	Sealer   *keys.Sealer
	Login    *login.Engine
	Audit    *audit.Logger
	Renderer *server.Renderer
	Log      *slog.Logger
	ACR      *assurance.Table
	// PairwiseSecret keys persistent NameIDs, as it keys OIDC pairwise
	// subjects; it must never change.
	PairwiseSecret []byte
	// RequestTTL is how long a pending AuthnRequest waits for the login
	// (the login timeout).
	RequestTTL time.Duration
	// SessionLifetime is the SSO session's absolute timeout: how long the
	// service providers that took part in a session are remembered.
	SessionLifetime time.Duration
	// AssertionLifetime bounds an assertion's NotOnOrAfter; default 5 min.
	AssertionLifetime time.Duration
	// Ledger records every assertion that carries attributes before it is
	// posted (internal/ledger). Required.
	Ledger Recorder
	// HTTPS: the issuer is https, so the logout cookie can be Secure and
	// SameSite=None (a service provider's POSTed LogoutResponse is a
	// cross-site request).
	HTTPS bool
}

// Paths of the endpoints.
const (
	pathMetadata     = "/saml/metadata"
	pathSSO          = "/saml/sso"
	pathSLO          = "/saml/slo"
	pathContinue     = "/saml/continue/"
	pathIdPInitiated = "/saml/idp-initiated"
	pathLogout       = "/saml/logout/"
	pathScript       = "/saml/autosubmit.js"
)

// Provider is the SAML identity provider.
type Provider struct {
	o        Options
	entityID string
	metadata url.URL // the entity ID as a URL: crewjam uses MetadataURL as the entity ID
	sso, slo url.URL
	pages    *pages
	clock    *dsig.Clock
	logger   libLogger
	certs    sync.Map // kid → *x509.Certificate
	applied  appliedMetadata
}

// Protocol is the identity provider's name with the login engine; the
// composition root registers it.
const Protocol = "saml"

// New builds the identity provider and hooks it into every logout.
func New(o Options) (*Provider, error) {
	if o.Ledger == nil {
		return nil, errors.New("saml identity provider: a data-release ledger is required")
	}
	if o.AssertionLifetime <= 0 {
		o.AssertionLifetime = 5 * time.Minute
	}
	if o.RequestTTL <= 0 {
		o.RequestTTL = 15 * time.Minute
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 24 * time.Hour
	}
	base := strings.TrimSuffix(o.Issuer, "/")
	if o.EntityID == "" {
		o.EntityID = base + pathMetadata
	}
	p := &Provider{o: o, entityID: o.EntityID, logger: libLogger{o.Log}}
	md, err := url.Parse(o.EntityID)
	if err != nil {
		return nil, fmt.Errorf("saml entity id: %w", err)
	}
	p.metadata = *md
	for dst, path := range map[*url.URL]string{&p.sso: pathSSO, &p.slo: pathSLO} {
		u, err := url.Parse(base + path)
		if err != nil {
			return nil, fmt.Errorf("saml endpoint: %w", err)
		}
		*dst = *u
	}
	p.pages, err = newPages(o.Renderer)
	if err != nil {
		return nil, err
	}
	p.clock = dsig.NewFakeClock(storeClock{Clock: clockwork.NewRealClock(), now: o.Sessions.Now})
	o.Login.OnLogout(p.afterLogout)
	return p, nil
}

// Mount registers the endpoints. /saml/sso and /saml/slo receive
// cross-site POSTs by design (the HTTP-POST binding), so they are not
// behind http.CrossOriginProtection; neither changes anything on the
// strength of the browser's cookies alone (see sso and slo).
func (p *Provider) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+pathMetadata, p.serveMetadata)
	mux.HandleFunc("GET "+pathSSO, p.serveSSO)
	mux.HandleFunc("POST "+pathSSO, p.serveSSO)
	mux.HandleFunc("GET "+pathContinue+"{id}", p.continueLogin)
	mux.HandleFunc("GET "+pathIdPInitiated, p.serveIdPInitiated)
	mux.HandleFunc("GET "+pathSLO, p.serveSLO)
	mux.HandleFunc("POST "+pathSLO, p.serveSLO)
	mux.HandleFunc("GET "+pathLogout+"{id}", p.startLogout)
	mux.HandleFunc("GET "+pathScript, p.pages.serveScript)
}

func (p *Provider) now() time.Time { return p.o.Sessions.Now() }

// idp is a crewjam IdentityProvider for one request: it signs with the key
// active now and publishes the others, so a rotation between two requests
// is simply seen by the second.
func (p *Provider) idp(ctx context.Context) (*saml.IdentityProvider, error) {
	active, err := p.o.Keys.Signing(ctx)
	if err != nil {
		return nil, err
	}
	// SAML signs with RSA; keys of other algorithms are for OIDC.
	published, err := p.o.Keys.PublishedFor(ctx, keys.RS256)
	if err != nil {
		return nil, err
	}
	idp := &saml.IdentityProvider{
		Signer:                  active.Signer,
		Logger:                  p.logger, // crewjam panics on a nil Logger
		MetadataURL:             p.metadata,
		SSOURL:                  p.sso,
		LogoutURL:               p.slo,
		ServiceProviderProvider: spProvider{p},
		SessionProvider:         sloSessions{p},
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
		Clock:                   p.clock,
		RejectSHA1Signatures:    true,
		LimitRelayStateLength:   true,
		LogoutBindings:          []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		NameIDFormats:           []saml.NameIDFormat{saml.PersistentNameIDFormat, saml.TransientNameIDFormat},
		ReplayCache:             replayCache{p},
		ValidDuration:           &metadataValidity,
	}
	for _, k := range published {
		cert, err := p.certificate(ctx, k, active)
		if err != nil {
			return nil, err
		}
		if k.ID == active.ID {
			idp.Certificate = cert
		} else {
			idp.ExtraCertificates = append(idp.ExtraCertificates, cert)
		}
	}
	if idp.Certificate == nil {
		return nil, errors.New("saml: the active signing key is not published")
	}
	return idp, nil
}

// metadataValidity is how long service providers may rely on a copy of
// the metadata (validUntil and cacheDuration).
var metadataValidity = 24 * time.Hour

// storeClock is the session store's clock as the clockwork.Clock that
// crewjam and goxmldsig take (through dsig.Clock); timers stay real.
type storeClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c storeClock) Now() time.Time                  { return c.now() }
func (c storeClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c storeClock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

// libLogger sends crewjam's log lines to slog, as warnings: it logs only
// what went wrong (messages carry entity IDs and request IDs, not personal
// data).
type libLogger struct{ log *slog.Logger }

func (l libLogger) Printf(format string, v ...any) { l.log.Warn("saml: " + fmt.Sprintf(format, v...)) }
func (l libLogger) Print(v ...any)                 { l.log.Warn("saml: " + fmt.Sprint(v...)) }
func (l libLogger) Println(v ...any) {
	l.log.Warn("saml: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
func (l libLogger) Fatal(v ...any)                 { l.Panic(v...) }
func (l libLogger) Fatalf(format string, v ...any) { l.Panicf(format, v...) }
func (l libLogger) Fatalln(v ...any)               { l.Panicln(v...) }
func (l libLogger) Panic(v ...any)                 { l.Print(v...); panic(fmt.Sprint(v...)) }
func (l libLogger) Panicf(format string, v ...any) {
	l.Printf(format, v...)
	panic(fmt.Sprintf(format, v...))
}
func (l libLogger) Panicln(v ...any) { l.Println(v...); panic(fmt.Sprintln(v...)) }

// audit records a SAML event.
func (p *Provider) audit(ctx context.Context, e audit.Event) {
	e.ClientIP = server.ClientIP(ctx)
	p.o.Audit.Record(ctx, e)
}
