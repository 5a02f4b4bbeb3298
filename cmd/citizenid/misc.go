package main

import (
	"fmt"
	"runtime"

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
			st, err := app.OpenStore(cmd.Context(), &cfg, g.logger(&cfg))
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
			if _, err := g.load(); err != nil {
				return err
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
