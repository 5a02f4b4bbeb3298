package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/account"
	"github.com/citizenid/citizenid/internal/admin"
	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/certificate"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/ledger"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/outbox"
	"github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/telemetry"
	"github.com/citizenid/citizenid/static"
	"github.com/citizenid/citizenid/templates"
	"github.com/citizenid/citizenid/web"
)

// Instance is a running CitizenID: its stores and its HTTP handler.
type Instance struct {
	Config   config.Config
	Store    store.Store
	Redis    *Redis
	Sessions *session.Store
	Keys     *keys.Manager
	Sealer   *keys.Sealer
	Hasher   *password.Hasher
	TOTP     *totp.Authenticator
	WebAuthn *webauthn.Authenticator // nil when passkeys are off
	// Certificate is certificate login, nil when disabled; CertificateTLS
	// its client-certificate listener, nil when none is configured.
	Certificate    *certificate.Authenticator
	CertificateTLS *certificate.TLSServer
	Audit          *audit.Logger
	Login          *login.Engine
	// Ledger writes the data-release ledger (group commit).
	Ledger *ledger.Writer
	// Notifier queues messages to citizens; its worker runs on this node.
	Notifier  *notify.Notifier
	stopSweep context.CancelFunc
	workers   sync.WaitGroup
	Handler   http.Handler
	// Demo is where the demo portal mounts its routes after Build (under
	// /demo/); nil unless BuildOptions.Demo.
	Demo *http.ServeMux
	// Metrics is served on server.metrics_addr by serve, never on the public listener.
	Metrics *server.Metrics
	// Tracing exports spans (telemetry.otlp.endpoint), or does nothing.
	Tracing *telemetry.Tracing
}

// Close releases everything Build opened.
func (in *Instance) Close() {
	if in.stopSweep != nil {
		in.stopSweep()
	}
	in.workers.Wait()
	if in.Ledger != nil {
		in.Ledger.Close() // commits what is queued before the store closes
	}
	if in.Certificate != nil {
		in.Certificate.Close()
	}
	in.Redis.Close()
	in.Store.Close()
	if in.Tracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		in.Tracing.Shutdown(ctx) // the spans not exported yet
		cancel()
	}
}

// BuildOptions are test seams; production leaves them zero.
type BuildOptions struct {
	Now func() time.Time
	// Demo mounts /demo/ for the demo portal (serve --demo); otherwise
	// /demo/ is an ordinary unknown page.
	Demo bool
	// NoLedger replaces the data-release ledger with one that records
	// nothing: only for benchmarks measuring what the ledger costs. Never
	// serve with it.
	NoLedger bool
	// WrapLedger, when set, wraps the store the ledger writes to (tests
	// make it fail).
	WrapLedger func(ledger.Appender) ledger.Appender
	// LedgerLinger is the ledger writer's Linger (benchmarks).
	LedgerLinger time.Duration
	// HTTPClient makes the server's outbound fetches of portals' logos
	// (tests trust their TLS servers with it); a plain client when nil.
	HTTPClient *http.Client
}

// Build opens the stores and assembles the server for cfg, which must be valid.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, bo BuildOptions) (_ *Instance, err error) {
	now := bo.Now
	if now == nil {
		now = time.Now
	}
	in := &Instance{Config: cfg}
	if in.Tracing, err = telemetry.Setup(ctx, telemetry.Options{Endpoint: cfg.Telemetry.OTLP.Endpoint, Service: "citizenid"}); err != nil {
		return nil, err
	}
	in.Store, err = OpenStore(ctx, &cfg, log, in.Tracing)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer func() {
		if err != nil {
			in.Store.Close()
		}
	}()
	in.Redis, err = OpenRedis(ctx, &cfg, in.Tracing)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	defer func() {
		if err != nil {
			in.Redis.Close()
		}
	}()
	master, err := MasterKey(&cfg, log)
	if err != nil {
		return nil, err
	}
	in.Sealer, in.Keys, err = Keys(&cfg, in.Store, master)
	if err != nil {
		return nil, err
	}
	if err := in.Keys.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	// A node whose master key cannot open the active key would answer 500
	// to every token request: it does not start.
	if _, err := in.Keys.Signing(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w (is keys.master_key the one the other nodes use?)", err)
	}
	in.Hasher = Hasher(&cfg)
	in.Sessions = session.New(in.Redis.Client, session.Options{
		IdleTimeout: cfg.Session.IdleTimeout, AbsoluteTimeout: cfg.Session.AbsoluteTimeout, Now: now,
		Durable: in.Store, // revocations outlive a Redis that restarts empty
	})
	in.Audit = audit.New(in.Store, log, now)
	// Events the database refuses (it is down) wait on this node's disk.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	in.Audit.Spool(filepath.Join(cfg.DataDir, "audit-spool.jsonl"))
	in.TOTP = totp.New(totp.Options{
		Sealer:      in.Sealer,
		Store:       in.Store,
		RecoveryKey: DeriveKey(master, "recovery codes"),
		Now:         now,
	})
	// The login methods, in order of preference: the engine picks the
	// first that fits a step (decide.go).
	methods := []login.Method{
		in.TOTP.Method(),
		in.TOTP.RecoveryMethod(in.Audit),
	}
	if rpID, origins, ok := cfg.WebAuthnRP(); ok {
		in.WebAuthn, err = webauthn.New(webauthn.Options{
			RPID: rpID, RPDisplayName: cfg.WebAuthn.RPDisplayName, Origins: origins,
			Attestation: cfg.WebAuthn.Attestation, AllowedAAGUIDs: cfg.WebAuthn.AllowedAAGUIDs,
			Timeout: cfg.WebAuthn.CeremonyTimeout, Store: in.Store, Sessions: in.Sessions,
			UserHandleKey: DeriveKey(master, "webauthn user handles"), Audit: in.Audit, Now: now,
		})
		if err != nil {
			return nil, err
		}
		methods = append(methods, in.WebAuthn.Method())
	} else {
		log.Warn("passkeys are off: the issuer's host is an IP address, which browsers refuse as a WebAuthn RP ID; set webauthn.rp_id to a domain name")
	}
	acr, limits := Assurance(&cfg)
	renderer, err := server.NewRenderer(templates.FS, log)
	if err != nil {
		return nil, err
	}
	if in.Certificate, err = Certificate(&cfg, in, renderer, log, now); err != nil {
		return nil, err
	} else if in.Certificate != nil {
		methods = append(methods, in.Certificate.Method())
		defer func() {
			if err != nil {
				in.Certificate.Close()
			}
		}()
	}
	methods = append(methods, &password.Method{Store: in.Store, Hasher: in.Hasher, Log: log})
	iss, _ := url.Parse(cfg.Server.Issuer)
	https := iss.Scheme == "https"
	engine := login.New(login.Options{
		Store:        in.Store,
		Sessions:     in.Sessions,
		Methods:      methods,
		Limits:       limits,
		Audit:        in.Audit,
		Renderer:     renderer,
		Log:          log,
		Cookie:       login.CookieFor(https),
		LoginTimeout: cfg.Session.LoginTimeout,
		AccountThrottle: session.ThrottlePolicy{
			Free: cfg.Login.FreeFailures, Window: cfg.Login.Window, BaseDelay: cfg.Login.BaseDelay, MaxDelay: cfg.Login.MaxDelay,
		},
		IPThrottle: session.ThrottlePolicy{
			Free: cfg.Login.IPFreeFailures, Window: cfg.Login.Window, BaseDelay: cfg.Login.BaseDelay, MaxDelay: cfg.Login.MaxDelay,
		},
		AccountSlowdown: session.ThrottlePolicy{
			Free: cfg.Login.AccountFreeFailures, Window: cfg.Login.Window, BaseDelay: cfg.Login.BaseDelay, MaxDelay: cfg.Login.MaxSlowdown,
		},
		Registration: cfg.Registration.Enabled,
		HTTPClient:   in.Tracing.Client(bo.HTTPClient, "portal logo"),
	})
	in.Login = engine
	renderer.SetUser(func(r *http.Request) string {
		sess := engine.Peek(r)
		if sess == nil {
			return ""
		}
		c, err := in.Store.CitizenByID(r.Context(), sess.CitizenID)
		if err != nil {
			return ""
		}
		return c.Name
	})
	var appender ledger.Appender = in.Store
	if bo.WrapLedger != nil {
		appender = bo.WrapLedger(appender)
	}
	in.Ledger = ledger.New(ledger.Options{Store: appender, Log: log, Now: now, Linger: bo.LedgerLinger})
	defer func() {
		if err != nil {
			in.Ledger.Close()
		}
	}()
	var recorder interface {
		oidc.Recorder
		saml.Recorder
	} = in.Ledger
	if bo.NoLedger {
		log.Warn("BENCHMARK: the data-release ledger records nothing")
		recorder = ledger.Nop{}
	}

	// One cache of portals' key sets for the token endpoint and the console.
	clientKeys := clientkeys.NewFetcher(in.Tracing.Client(bo.HTTPClient, "client jwks"), nil)
	provider, err := oidc.New(oidc.Options{
		Issuer:         cfg.Server.Issuer,
		Store:          in.Store,
		Sessions:       in.Sessions,
		Keys:           in.Keys,
		Sealer:         in.Sealer,
		Login:          engine,
		Audit:          in.Audit,
		Renderer:       renderer,
		Log:            log,
		ACR:            acr,
		PairwiseSecret: PairwiseSecret(&cfg, master),
		Lifetimes: oidc.Lifetimes{
			AccessToken:  cfg.Tokens.AccessTokenLifetime,
			IDToken:      cfg.Tokens.IDTokenLifetime,
			RefreshToken: cfg.Tokens.RefreshTokenLifetime,
			Code:         cfg.Tokens.CodeLifetime,
		},
		AuthRequestTTL: cfg.Session.LoginTimeout,
		ClientThrottle: session.ThrottlePolicy{
			Free: cfg.Login.FreeFailures, Window: cfg.Login.Window, BaseDelay: cfg.Login.BaseDelay, MaxDelay: cfg.Login.MaxDelay,
		},
		Ledger:             recorder,
		ClientKeys:         clientKeys,
		RequirePAR:         cfg.Tokens.RequirePushedAuthorizationRequests,
		ClientCacheRefresh: cfg.Tokens.ClientCacheRefresh,
	})
	if err != nil {
		return nil, err
	}
	samlIdP, err := saml.New(saml.Options{
		Issuer:          cfg.Server.Issuer,
		EntityID:        cfg.SAML.EntityID,
		SignMetadata:    cfg.SAML.SignMetadata,
		Store:           in.Store,
		Sessions:        in.Sessions,
		Keys:            in.Keys,
		Sealer:          in.Sealer,
		Login:           engine,
		Audit:           in.Audit,
		Renderer:        renderer,
		Log:             log,
		ACR:             acr,
		PairwiseSecret:  PairwiseSecret(&cfg, master),
		RequestTTL:      cfg.Session.LoginTimeout,
		SessionLifetime: cfg.Session.AbsoluteTimeout,
		HTTPS:           https,
		Ledger:          recorder,
	})
	if err != nil {
		return nil, err
	}
	in.Notifier, err = notify.New(notify.Options{
		Store:        in.Store,
		Templates:    templates.FS,
		Issuer:       cfg.Server.Issuer,
		Email:        notify.EmailOptions{URL: cfg.Notifications.Email.SMTP, From: cfg.Notifications.Email.From},
		SMS:          notify.SMSOptions{URL: cfg.Notifications.SMS.URL, Token: cfg.Notifications.SMS.Token, Brand: cfg.Notifications.SMS.Brand},
		PollInterval: cfg.Notifications.PollInterval,
		RetryBase:    cfg.Notifications.RetryBase,
		MaxAttempts:  cfg.Notifications.MaxAttempts,
		Observe: func(kind, outcome string) {
			if in.Metrics != nil {
				in.Metrics.Inc("citizenid_notifications_total", "kind", kind, "outcome", outcome)
			}
		},
		Log: log,
		Now: now,
	})
	if err != nil {
		return nil, err
	}
	in.Audit.Observe(noticeObserver(in.Store, in.Notifier, log))
	acct := account.New(account.Options{
		Store:    in.Store,
		Login:    engine,
		Sessions: in.Sessions,
		TOTP:     in.TOTP,
		WebAuthn: in.WebAuthn,
		Certificates: func() account.CertificateBinder {
			if in.Certificate == nil {
				return nil // a nil *Authenticator would be a non-nil interface
			}
			return in.Certificate
		}(),
		Consents: in.Store,
		Portals:  provider,
		Audit:    in.Audit,
		Renderer: renderer,
		Log:      log,
		Fresh:    cfg.Assurance.AccountFreshness,
		Ledger:   in.Store,
		Export:   in.Store,

		Registration: cfg.Registration.Enabled,
		Notifier:     in.Notifier,
		Hasher:       in.Hasher,
		Policy:       password.Policy{MinLength: cfg.Password.MinLength},
		SecondFactorThrottle: session.ThrottlePolicy{
			Free: cfg.Login.FreeFailures, Window: cfg.Login.Window, BaseDelay: cfg.Login.BaseDelay, MaxDelay: cfg.Login.MaxDelay,
		},
		PortalName: func(ctx context.Context, protocol, id string) string {
			switch protocol {
			case oidc.Protocol:
				if c, err := in.Store.ClientByID(ctx, id); err == nil {
					return c.Name
				}
			case saml.Protocol:
				if sp, err := in.Store.ServiceProviderByEntityID(ctx, id); err == nil {
					return sp.Name
				}
			}
			return ""
		},
	})
	adm, err := admin.New(admin.Options{
		ClientKeys:         clientKeys,
		SigningAlgorithms:  cfg.Keys.SigningAlgorithms(),
		Store:              in.Store,
		Outbox:             in.Store,
		Login:              engine,
		Sessions:           in.Sessions,
		Keys:               in.Keys,
		TOTP:               in.TOTP,
		Audit:              in.Audit,
		Tokens:             provider,
		Log:                log,
		Renderer:           renderer,
		MinLevel:           assurance.Level(cfg.Admin.MinLevel),
		IdleTimeout:        cfg.Admin.IdleTimeout,
		SensitiveFreshness: cfg.Admin.SensitiveFreshness,
		SecretOverlap:      cfg.Admin.SecretOverlap,
		MetadataTimeout:    cfg.Admin.MetadataTimeout,
		TimeZone:           cfg.Admin.Location(),
		MetadataFetch:      saml.FetchOptions{AllowedHosts: cfg.SAML.MetadataAllowedHosts},
		Hasher:             in.Hasher,
		Notifier:           in.Notifier,
	})
	if err != nil {
		return nil, err
	}
	// Every protocol that hands requests to the login engine, registered
	// here; one missing fails the start, not a request.
	engine.Register(oidc.Protocol, provider)
	engine.Register(saml.Protocol, samlIdP)
	engine.Register(account.Protocol, acct)
	engine.Register(admin.Protocol, adm)
	if err := engine.CheckProtocols(oidc.Protocol, saml.Protocol, account.Protocol, admin.Protocol); err != nil {
		return nil, err
	}
	features := []server.Mounter{engine, provider, samlIdP, acct, adm}
	if bo.Demo {
		in.Demo = http.NewServeMux()
		features = append(features, demoRoutes{in.Demo})
	}
	in.Metrics = newMetrics(in, log)
	in.Handler = server.New(server.Options{
		Metrics:  in.Metrics,
		Log:      log,
		Renderer: renderer,
		Proxies:  server.ParseProxies(cfg.Server.TrustedProxies),
		HTTPS:    https,
		Static:   static.FS,
		Web:      web.FS,
		Ready: []server.Check{
			{Name: "database", Fn: in.Store.Ping},
			{Name: "redis", Fn: in.Sessions.Ping},
			// The master key opens the active signing key: a node with a
			// wrong key would fail every token.
			{Name: "signing key", Fn: func(ctx context.Context) error { _, err := in.Keys.Signing(ctx); return err }},
		},
		Features: features,
		Trace:    traceHandler(in.Tracing),
	})
	// Sessions that end on their timeouts go through End too, on any node.
	sweep, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	in.stopSweep = stopSweep
	in.workers.Go(func() { engine.RunExpiry(sweep, time.Minute) })
	// Ledger entries older than the retention period go, on every node.
	in.workers.Go(func() { ledger.RunPurge(sweep, in.Store, cfg.Ledger.Retention, time.Hour, now, log) })
	// Spooled audit events are written as soon as the database takes them.
	in.workers.Go(func() { in.Audit.Run(sweep, 5*time.Second) })
	// Marks past their time go, on every node.
	in.workers.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-sweep.Done():
				return
			case <-t.C:
				if _, err := in.Store.PurgeMarks(sweep, now()); err != nil && sweep.Err() == nil {
					log.WarnContext(sweep, "purge marks", "err", err)
				}
			}
		}
	})
	// Messages to citizens are delivered by every node.
	in.workers.Go(func() { in.Notifier.Run(sweep) })
	// So are back-channel logouts to portals.
	deliveryRules := outbox.Rules{Timeout: cfg.BackchannelLogout.Timeout, RetryBase: cfg.BackchannelLogout.RetryBase,
		MaxWait: cfg.BackchannelLogout.MaxWait, GiveUpAfter: cfg.BackchannelLogout.GiveUpAfter}
	logouts := outbox.New(outbox.Options{
		Store: in.Store,
		Handlers: map[string]outbox.Handler{
			oidc.KindLogout: provider.LogoutHandler(deliveryRules, in.Tracing.Client(bo.HTTPClient, "oidc backchannel logout")),
			saml.KindLogout: samlIdP.LogoutHandler(deliveryRules, in.Tracing.Client(bo.HTTPClient, "saml soap logout")),
		},
		PollInterval: cfg.BackchannelLogout.PollInterval,
		Owner:        session.RandomToken(8),
		Observe: func(kind, outcome string) {
			if in.Metrics != nil {
				in.Metrics.Inc("citizenid_backchannel_logout_total", "kind", kind, "outcome", outcome)
			}
		},
		Failed: func(ctx context.Context, m store.OutboxMessage, err error) {
			target := "client:" + m.Target
			if m.Kind == saml.KindLogout {
				target = "sp:" + m.Target
			}
			in.Audit.Record(ctx, audit.Event{Actor: "system", Action: "backchannel_logout.failed", Target: target,
				Outcome: "failure", Details: map[string]string{"kind": m.Kind, "attempts": strconv.Itoa(m.Attempts)}})
		},
		Log: log,
		Now: now,
	})
	in.workers.Go(func() { logouts.Run(sweep) })
	return in, nil
}

// demoRoutes mounts the routes registered on Instance.Demo after Build.
type demoRoutes struct{ mux *http.ServeMux }

func (d demoRoutes) Mount(mux *http.ServeMux) { mux.Handle("/demo/", d.mux) }

// traceHandler is the server's tracing wrapper, nil when tracing is off.
func traceHandler(t *telemetry.Tracing) func(http.Handler) http.Handler {
	if !t.Enabled() {
		return nil
	}
	return t.Handler
}
