package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/demo"
	"github.com/citizenid/citizenid/internal/server"
)

func newServe(g *globals) *cobra.Command {
	var addr, issuer, pprofAddr string
	var dev, withDemo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (embedded default when no database/redis URL is configured)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pprofAddr == "" {
				// Without the pprof listener nobody can read the heap
				// profile: don't keep one (its records of sampled
				// allocation stacks are a few MiB of a server's memory).
				runtime.MemProfileRate = 0
			}
			cfg, err := g.load(func(c *config.Config) {
				if addr != "" {
					c.Server.Addr = addr
				}
				if issuer != "" {
					c.Server.Issuer = issuer
				}
				if dev {
					c.Dev = true
				}
			})
			if err != nil {
				return err
			}
			if withDemo && !cfg.DevMode() {
				return fmt.Errorf("--demo is only for the embedded default or --dev")
			}
			log := g.logger(&cfg)
			// zitadel/oidc logs through the default logger: give it ours,
			// which drops personal-data keys.
			slog.SetDefault(log)
			if cfg.Embedded() {
				log.Warn("EMBEDDED MODE: SQLite in " + cfg.DataDir + " and an in-process Redis-protocol server. " +
					"Single node only, sessions are lost on restart, every session is held in this process's memory. " +
					"NOT FOR PRODUCTION: set database.url and redis.url.")
			} else if cfg.Dev {
				log.Warn("DEV MODE: production checks (HTTPS issuer, master key) are relaxed")
			}
			ctx := cmd.Context()
			in, err := app.Build(ctx, cfg, log, app.BuildOptions{Demo: withDemo})
			if err != nil {
				return err
			}
			defer in.Close()
			if withDemo {
				d, err := demo.Setup(ctx, in)
				if err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				d.Mount(in.Demo)
				d.Print(g.stdout)
			}
			ln, err := net.Listen("tcp", cfg.Server.Addr)
			if err != nil {
				return err
			}
			log.Info("citizenid listening", "addr", ln.Addr().String(), "issuer", cfg.Server.Issuer, "version", version, "pid", os.Getpid())
			if t := in.CertificateTLS; t != nil {
				// The client-certificate listener lives and stops with the main one.
				cln, err := t.Listen()
				if err != nil {
					ln.Close()
					return fmt.Errorf("certificate listener: %w", err)
				}
				done := make(chan struct{})
				defer func() { <-done }() // runs after cancel below
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				go func() {
					defer close(done)
					if err := server.Serve(ctx, cln, t.Handler, cfg.Server.ShutdownTimeout, log); err != nil {
						log.Error("certificate listener stopped", "err", err)
						cancel()
					}
				}()
				log.Info("certificate listener", "addr", cln.Addr().String(), "url", cfg.Certificate.TLS.URL, "tls", t.TLSConfig != nil)
			}
			if pprofAddr != "" {
				// Profiling is for measuring (make perf), never for the
				// public: loopback only, and off unless asked for.
				host, _, err := net.SplitHostPort(pprofAddr)
				if err != nil || !config.IsLoopbackHost(host) {
					return fmt.Errorf("--pprof-addr %q: want a loopback HOST:PORT", pprofAddr)
				}
				pln, err := net.Listen("tcp", pprofAddr)
				if err != nil {
					ln.Close()
					return fmt.Errorf("pprof listener: %w", err)
				}
				mux := http.NewServeMux()
				mux.HandleFunc("GET /debug/pprof/", pprof.Index)
				mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
				mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
				go server.Serve(ctx, pln, mux, cfg.Server.ShutdownTimeout, log)
				log.Warn("pprof listening: CPU and heap profiles and execution traces of this process", "addr", pln.Addr().String())
			}
			if cfg.Server.MetricsAddr != "" {
				mln, err := net.Listen("tcp", cfg.Server.MetricsAddr)
				if err != nil {
					ln.Close()
					return fmt.Errorf("metrics listener: %w", err)
				}
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", in.Metrics.Handler())
				go server.Serve(ctx, mln, mux, cfg.Server.ShutdownTimeout, log)
				log.Info("metrics listening", "addr", mln.Addr().String())
			}
			return server.Serve(ctx, ln, in.Handler, cfg.Server.ShutdownTimeout, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "", "listen address HOST:PORT (env CITIZENID_ADDR; default 127.0.0.1:8080)")
	f.StringVar(&issuer, "issuer", "", "issuer URL (env CITIZENID_ISSUER; default http://localhost:8080)")
	f.BoolVar(&dev, "dev", false, "relax production checks (env CITIZENID_DEV)")
	f.StringVar(&pprofAddr, "pprof-addr", "", "serve Go's profiles (net/http/pprof) on this loopback HOST:PORT; off by default")
	f.BoolVar(&withDemo, "demo", false, "create a demo citizen and portal and print how to log in")
	return cmd
}
