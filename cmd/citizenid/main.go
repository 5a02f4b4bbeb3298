// Command citizenid is CitizenID's one binary: the server and the
// operator's CLI. It only wires flags, configuration and packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// globals are the flags every command takes.
type globals struct {
	configFile string
	dataDir    string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "citizenid",
		Short:         "CitizenID: single sign-on for a country's digital government",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configFile, "config", os.Getenv("CITIZENID_CONFIG"), "YAML configuration file (env CITIZENID_CONFIG)")
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", "", "where the embedded default keeps its files (env CITIZENID_DATA_DIR; default ./data)")
	root.AddCommand(
		newServe(g),
		newMigrate(g),
		newConfigCmd(g),
		newVersion(g),
		newHealthcheck(g),
		newCitizen(g),
		newClient(g),
		newSP(g),
		newKeys(g),
		newAdmin(g),
		newAudit(g),
	)
	return root
}

// load reads the configuration: defaults, file, environment, then flags.
func (g *globals) load(flags ...func(*config.Config)) (config.Config, error) {
	cfg, err := config.Load(g.configFile, os.Getenv)
	if err != nil {
		return cfg, err
	}
	if g.dataDir != "" {
		cfg.DataDir = g.dataDir
	}
	for _, f := range flags {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("configuration is not valid:\n%w", indent(err))
	}
	return cfg, nil
}

func (g *globals) logger(cfg *config.Config) *slog.Logger {
	return server.NewLogger(g.stderr, cfg.Log.Format, cfg.Log.Level)
}

// indent prints joined errors one per line, indented.
func indent(err error) error {
	var lines []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			lines = append(lines, "  - "+e.Error())
		}
	} else {
		lines = append(lines, "  - "+err.Error())
	}
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n"
		}
		out += l
	}
	return errors.New(out)
}
