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
	c.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Promote the pre-published next key; the old key keeps verifying until its tokens expire",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			if err := e.keys.Ensure(cmd.Context()); err != nil {
				return err
			}
			kid, err := e.keys.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "keys.rotate", Target: "key:" + kid, Outcome: "success"})
			fmt.Fprintf(g.stdout, "active signing key is now %s (nodes pick it up within the key cache TTL)\n", kid)
			return nil
		},
	})
	return c
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
