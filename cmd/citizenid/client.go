package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

func newClient(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "client", Short: "OpenID Connect clients (portals)"}
	var spec clients.Spec
	var secretStdin bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a portal; prints a generated secret once unless --secret-stdin or --public",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secretStdin {
				if spec.Public {
					return errors.New("--secret-stdin and --public exclude each other")
				}
				s, err := readSecret(g.stdin)
				if err != nil {
					return err
				}
				spec.Secret = s
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			_, secret, err := clients.Create(cmd.Context(), e.store, spec)
			if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "client.create", Target: "client:" + spec.ID, Outcome: "success",
				Details: map[string]string{"redirect_uris": strings.Join(spec.RedirectURIs, " "), "public": fmt.Sprint(spec.Public)}})
			fmt.Fprintf(g.stdout, "created client %s\n", spec.ID)
			if secret != "" && !secretStdin {
				fmt.Fprintf(g.stdout, "client secret (shown once, store it now): %s\n", secret)
			}
			return nil
		},
	}
	f := add.Flags()
	f.StringVar(&spec.ID, "id", "", "client id (required)")
	f.StringVar(&spec.Name, "name", "", "portal name shown to citizens (required)")
	f.StringArrayVar(&spec.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable)")
	f.StringArrayVar(&spec.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable)")
	f.BoolVar(&spec.Public, "public", false, "public client (native or browser app): no secret, PKCE required")
	f.BoolVar(&secretStdin, "secret-stdin", false, "read the client secret (at least 32 characters) from standard input")
	f.StringArrayVar(&spec.Scopes, "scope", nil, "extra scope the client may request, e.g. citizen_number (repeatable)")
	f.StringVar(&spec.SubjectType, "subject-type", "pairwise", "pairwise or public")
	f.StringVar(&spec.SectorIdentifier, "sector", "", "sector identifier: clients of one agency sharing it get the same pairwise subjects")
	f.IntVar(&spec.MinLevel, "min-level", 1, "minimum authentication level 1-4")
	f.DurationVar(&spec.MaxAuthAge, "max-auth-age", 0, "re-authenticate when the last login is older than this (0: no limit)")
	f.StringVar(&spec.LegalBasis, "legal-basis", "", "law or mandate under which the portal receives personal data: citizens are notified instead of asked (empty: consent)")
	f.StringVar(&spec.BackchannelLogoutURI, "backchannel-logout-uri", "", "where the portal receives logout tokens when a session it took part in ends (https; http only on loopback)")
	f.BoolVar(&spec.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false, "the portal needs the sid claim in logout tokens")

	list := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			cs, err := e.store.ListClients(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTYPE\tSUBJECT\tMIN LEVEL\tREDIRECT URIS")
			for _, c := range cs {
				typ := "confidential"
				if c.Public {
					typ = "public"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, c.Name, typ, c.SubjectType, c.MinLevel, strings.Join(c.RedirectURIs, " "))
			}
			return tw.Flush()
		},
	}
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a client; its tokens stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			if err := e.store.DeleteClient(cmd.Context(), args[0]); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no client %q", args[0])
			} else if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "client.delete", Target: "client:" + args[0], Outcome: "success"})
			fmt.Fprintf(g.stdout, "removed client %s\n", args[0])
			return nil
		},
	}
	c.AddCommand(add, newClientUpdate(g), list, remove)
	return c
}

// newClientUpdate is `client update ID`: it changes only the flags given,
// through the same rules as the console and the API.
func newClientUpdate(g *globals) *cobra.Command {
	var in clients.Spec
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a portal's settings; flags not given keep their value",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			f := cmd.Flags()
			_, after, err := clients.Update(cmd.Context(), e.store, args[0], func(s *clients.Spec) error {
				if f.Changed("name") {
					s.Name = in.Name
				}
				if f.Changed("logo-url") {
					s.LogoURL = in.LogoURL
				}
				if f.Changed("redirect-uri") {
					s.RedirectURIs = in.RedirectURIs
				}
				if f.Changed("post-logout-redirect-uri") {
					s.PostLogoutRedirectURIs = in.PostLogoutRedirectURIs
				}
				if f.Changed("min-level") {
					s.MinLevel = in.MinLevel
				}
				if f.Changed("max-auth-age") {
					s.MaxAuthAge = in.MaxAuthAge
				}
				if f.Changed("legal-basis") {
					s.LegalBasis = in.LegalBasis
				}
				if f.Changed("backchannel-logout-uri") {
					s.BackchannelLogoutURI = in.BackchannelLogoutURI
				}
				if f.Changed("backchannel-logout-session-required") {
					s.BackchannelLogoutSessionRequired = in.BackchannelLogoutSessionRequired
				}
				return nil
			}, nil)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no client %q", args[0])
			} else if err != nil {
				return err
			}
			var changed []string
			f.Visit(func(fl *pflag.Flag) { changed = append(changed, fl.Name) })
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "client.update", Target: "client:" + after.ID, Outcome: "success",
				Details: map[string]string{"changed": strings.Join(changed, " ")}})
			fmt.Fprintf(g.stdout, "updated client %s\n", after.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "portal name shown to citizens")
	f.StringVar(&in.LogoURL, "logo-url", "", "https URL of the portal's logo (empty: none)")
	f.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable; replaces the list)")
	f.StringArrayVar(&in.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable; replaces the list)")
	f.IntVar(&in.MinLevel, "min-level", 1, "minimum authentication level 1-4")
	f.DurationVar(&in.MaxAuthAge, "max-auth-age", 0, "re-authenticate when the last login is older than this (0: no limit)")
	f.StringVar(&in.LegalBasis, "legal-basis", "", "law or mandate under which the portal receives personal data (empty: consent)")
	f.StringVar(&in.BackchannelLogoutURI, "backchannel-logout-uri", "", "where the portal receives logout tokens (empty: none)")
	f.BoolVar(&in.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false, "the portal needs the sid claim in logout tokens")
	return cmd
}
