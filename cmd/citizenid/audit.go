package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/store"
)

func newAudit(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The audit log"}
	c.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain from its first event to its last",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			// Page through in seq order; each page is checked together with
			// the last event of the page before, so the links between pages
			// are checked too.
			var last *store.AuditEvent
			n := 0
			for after := int64(0); ; {
				page, err := e.store.ListAudit(cmd.Context(), store.AuditFilter{AfterSeq: after, Limit: 1000})
				if err != nil {
					return err
				}
				if len(page) == 0 {
					break
				}
				run := page
				if last != nil {
					run = append([]store.AuditEvent{*last}, page...)
				} else if page[0].Seq != 1 {
					return fmt.Errorf("audit chain broken: the log starts at seq %d, not 1", page[0].Seq)
				}
				if err := store.VerifyAuditChain(run); err != nil {
					return err
				}
				n += len(page)
				last = &page[len(page)-1]
				after = last.Seq
			}
			fmt.Fprintf(g.stdout, "audit chain verified: %d events\n", n)
			return nil
		},
	})
	return c
}
