package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/citizenid/citizenid/internal/account"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
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
	Audit    *audit.Logger
	Handler  http.Handler
	Extra    *http.ServeMux // routes added after Build (e.g. the demo portal)
}

// Close releases everything Build opened.
func (in *Instance) Close() {
	in.Redis.Close()
	in.Store.Close()
}

// BuildOptions are test seams; production leaves them zero.
type BuildOptions struct {
	Now func() time.Time
}

// Build opens the stores and assembles the server for cfg, which must be valid.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, bo BuildOptions) (_ *Instance, err error) {
	now := bo.Now
	if now == nil {
		now = time.Now
	}
	in := &Instance{Config: cfg}
	in.Store, err = OpenStore(ctx, &cfg, log)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer func() {
		if err != nil {
			in.Store.Close()
		}
	}()
	in.Redis, err = OpenRedis(ctx, &cfg)
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
	in.Hasher = Hasher(&cfg)
	in.Sessions = session.New(in.Redis.Client, session.Options{
		IdleTimeout: cfg.Session.IdleTimeout, AbsoluteTimeout: cfg.Session.AbsoluteTimeout, Now: now,
	})
	in.Audit = audit.New(in.Store, log, now)
	in.TOTP = totp.New(totp.Options{
		Sealer:      in.Sealer,
		Store:       in.Store,
		RecoveryKey: DeriveKey(master, "recovery codes"),
		Now:         now,
	})
	acr, limits := Assurance(&cfg)
	renderer, err := server.NewRenderer(templates.FS, log)
	if err != nil {
		return nil, err
	}
	iss, _ := url.Parse(cfg.Server.Issuer)
	https := iss.Scheme == "https"
	engine := login.New(login.Options{
		Store:        in.Store,
		Sessions:     in.Sessions,
		Hasher:       in.Hasher,
		TOTP:         in.TOTP,
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
	})
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
	})
	if err != nil {
		return nil, err
	}
	acct := account.New(account.Options{
		Store:    in.Store,
		Login:    engine,
		Sessions: in.Sessions,
		TOTP:     in.TOTP,
		Audit:    in.Audit,
		Renderer: renderer,
		Log:      log,
		Fresh:    cfg.Assurance.AccountFreshness,
	})
	in.Extra = http.NewServeMux()
	in.Handler = server.New(server.Options{
		Log:      log,
		Renderer: renderer,
		Proxies:  server.ParseProxies(cfg.Server.TrustedProxies),
		HTTPS:    https,
		Static:   static.FS,
		Web:      web.FS,
		Ready: []server.Check{
			{Name: "database", Fn: in.Store.Ping},
			{Name: "redis", Fn: in.Sessions.Ping},
		},
		Features: []server.Mounter{engine, provider, acct, extra{in.Extra}},
	})
	return in, nil
}

// extra mounts routes registered on Instance.Extra after Build.
type extra struct{ mux *http.ServeMux }

func (e extra) Mount(mux *http.ServeMux) { mux.Handle("/demo/", e.mux) }
