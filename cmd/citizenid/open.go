package main

import (
	"context"
	"log/slog"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/store"
)

// cliEnv is what CLI commands work with: the same store and keys as serve,
// without the HTTP side or Redis.
type cliEnv struct {
	cfg   config.Config
	log   *slog.Logger
	store store.Store
	keys  *keys.Manager
	audit *audit.Logger
	hash  *password.Hasher
}

func (g *globals) open(ctx context.Context) (*cliEnv, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, err
	}
	log := g.logger(&cfg)
	st, err := app.OpenStore(ctx, &cfg, log, nil)
	if err != nil {
		return nil, err
	}
	master, err := app.MasterKey(&cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	_, km, err := app.Keys(&cfg, st, master)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &cliEnv{
		cfg:   cfg,
		log:   log,
		store: st,
		keys:  km,
		audit: audit.New(st, log, nil),
		hash:  app.Hasher(&cfg),
	}, nil
}

func (e *cliEnv) close() { e.store.Close() }
