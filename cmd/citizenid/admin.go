package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/admin"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/store"
)

func newAdmin(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "admin", Short: "Administrators of the console (/admin) and the admin API"}
	roleNames := make([]string, len(admin.Roles))
	for i, r := range admin.Roles {
		roleNames[i] = string(r)
	}
	var roleFlag string
	parse := func(number string) (admin.Role, error) {
		if !login.ValidCitizenNumber(number) {
			return "", errors.New("the citizen number must be exactly 12 digits")
		}
		role, ok := admin.ParseRole(roleFlag)
		if !ok {
			return "", fmt.Errorf("--role %q: one of %s", roleFlag, strings.Join(roleNames, ", "))
		}
		return role, nil
	}
	grant := &cobra.Command{
		Use:   "grant NUMBER --role ROLE",
		Short: "Grant an administrative role to a citizen's account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := parse(args[0])
			if err != nil {
				return err
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			_, err = admin.GrantRole(cmd.Context(), e.store, e.audit, args[0], role, "cli", nil)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("no citizen with number %s", args[0])
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("citizen %s already holds the role %s", args[0], role)
			case err != nil:
				return err
			}
			fmt.Fprintf(g.stdout, "granted %s to %s\n", role, args[0])
			return nil
		},
	}
	grant.Flags().StringVar(&roleFlag, "role", "", "role: "+strings.Join(roleNames, ", ")+" (required)")
	revoke := &cobra.Command{
		Use:   "revoke NUMBER --role ROLE",
		Short: "Revoke an administrative role (the last owner stays)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := parse(args[0])
			if err != nil {
				return err
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			_, err = admin.RevokeRole(cmd.Context(), e.store, e.audit, args[0], role, "cli", nil)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("citizen %s does not hold the role %s", args[0], role)
			case err != nil:
				return err
			}
			fmt.Fprintf(g.stdout, "revoked %s from %s\n", role, args[0])
			return nil
		},
	}
	revoke.Flags().StringVar(&roleFlag, "role", "", "role: "+strings.Join(roleNames, ", ")+" (required)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List administrators and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			grants, err := e.store.ListAdmins(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NUMBER\tNAME\tROLE\tGRANTED BY\tGRANTED")
			for _, gr := range grants {
				c, err := e.store.CitizenByID(cmd.Context(), gr.CitizenID)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Number, c.Name, gr.Role, gr.GrantedBy, ts(gr.GrantedAt))
			}
			return tw.Flush()
		},
	}
	c.AddCommand(grant, revoke, list)
	return c
}
