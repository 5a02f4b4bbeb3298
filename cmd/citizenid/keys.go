package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/audit"
)

func newKeys(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Token-signing keys"}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List signing keys and their states",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			list, err := e.keys.List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATED\tVERIFY UNTIL")
			for _, k := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, ts(k.CreatedAt), ts(k.ActivatedAt), ts(k.VerifyUntil))
			}
			return tw.Flush()
		},
	})
	var algs []string
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Promote each algorithm's pre-published next key; the old keys keep verifying until their tokens expire",
		Long: `Rotate the signing keys of every configured algorithm (RS256 and keys.algorithm),
or only those named with --algorithm. A full rotation also retires the keys of
an algorithm no longer configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			if err := e.keys.Ensure(cmd.Context()); err != nil {
				return err
			}
			kids, err := e.keys.RotateFor(cmd.Context(), algs...)
			if err != nil {
				return err
			}
			for _, alg := range e.keys.Algorithms() {
				kid, ok := kids[alg]
				if !ok {
					continue
				}
				e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "keys.rotate", Target: "key:" + kid, Outcome: "success", Details: map[string]string{"algorithm": alg}})
				fmt.Fprintf(g.stdout, "active signing key is now %s (%s)\n", kid, alg)
			}
			fmt.Fprintln(g.stdout, "nodes pick the new keys up within the key cache TTL")
			return nil
		},
	}
	rotate.Flags().StringSliceVar(&algs, "algorithm", nil, "rotate only these algorithms (RS256, PS256, ES256, EdDSA; comma-separated or repeated)")
	c.AddCommand(rotate)
	return c
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
