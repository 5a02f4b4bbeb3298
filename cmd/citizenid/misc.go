package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/config"
)

func newMigrate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (serve also does this at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), &cfg, g.logger(&cfg), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(g.stdout, "migrations applied")
			return nil
		},
	}
}

func newConfigCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	c.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Print every configuration problem at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := os.Getenv
			if g.dataDir != "" {
				env = func(k string) string {
					if k == "CITIZENID_DATA_DIR" {
						return g.dataDir
					}
					return os.Getenv(k)
				}
			}
			if err := config.Check(g.configFile, env); err != nil {
				return fmt.Errorf("configuration is not valid:\n%w", indent(err))
			}
			// The master key, when configured, must be readable and a key.
			if cfg, err := config.Load(g.configFile, env); err == nil && (cfg.Keys.MasterKey != "" || cfg.Keys.MasterKeyFile != "") {
				if _, err := app.MasterKey(&cfg, slog.New(slog.DiscardHandler)); err != nil {
					return fmt.Errorf("configuration is not valid:\n  keys: %w", err)
				}
			}
			fmt.Fprintln(g.stdout, "configuration is valid")
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "env",
		Short: "List the CITIZENID_* environment variables",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			for _, n := range config.EnvVars() {
				fmt.Fprintln(g.stdout, n)
			}
		},
	})
	return c
}

// newHealthcheck probes /healthz of the local server: the container image
// has no curl.
func newHealthcheck(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server on server.addr answers /healthz",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.configFile, os.Getenv)
			if err != nil {
				return err
			}
			host, port, err := net.SplitHostPort(cfg.Server.Addr)
			if err != nil {
				return err
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			c := &http.Client{Timeout: 3 * time.Second}
			resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz: status %d", resp.StatusCode)
			}
			return nil
		},
	}
}

func newVersion(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(g.stdout, "citizenid %s (%s)\n", version, runtime.Version())
		},
	}
}
