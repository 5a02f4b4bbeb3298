package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/store"
)

func newClient(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "client", Short: "OpenID Connect clients (portals)"}
	var spec clients.Spec
	var secretStdin bool
	var f *pflag.FlagSet
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a portal; prints a generated secret once unless --secret-stdin or --public",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secretStdin {
				if jwks := f.Lookup("jwks"); jwks != nil && jwks.Value.String() == "-" {
					return errors.New("--secret-stdin and --jwks - both read standard input")
				}
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
			c, secret, err := e.registrar().Create(cmd.Context(), spec)
			if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "client.create", Target: "client:" + spec.ID, Outcome: "success",
				Details: map[string]string{"redirect_uris": strings.Join(spec.RedirectURIs, " "), "public": fmt.Sprint(spec.Public),
					"token_endpoint_auth_method": c.TokenEndpointAuthMethod, "profile": c.Profile,
					"access_token_format": c.AccessTokenFormat, "id_token_signed_response_alg": c.IDTokenSignedResponseAlg}})
			fmt.Fprintf(g.stdout, "created client %s\n", spec.ID)
			switch {
			case secret != "" && !secretStdin:
				fmt.Fprintf(g.stdout, "client secret (shown once, store it now): %s\n", secret)
			case c.TokenEndpointAuthMethod == clients.AuthPrivateKeyJWT:
				fmt.Fprintln(g.stdout, "the client authenticates with its keys (private_key_jwt): it has no secret")
			}
			return nil
		},
	}
	f = add.Flags()
	f.StringVar(&spec.ID, "id", "", "client id (required)")
	specFlags(f, &spec, g.stdin)
	f.BoolVar(&spec.Public, "public", false, "public client (native or browser app): no secret, PKCE required")
	f.BoolVar(&secretStdin, "secret-stdin", false, "read the client secret (at least 32 characters) from standard input")
	f.StringArrayVar(&spec.Scopes, "scope", nil, "extra scope the client may request, e.g. citizen_number (repeatable)")
	f.StringVar(&spec.SubjectType, "subject-type", "pairwise", "pairwise or public")
	f.StringVar(&spec.SectorIdentifier, "sector", "", "sector identifier: clients of one agency sharing it get the same pairwise subjects")

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
			fmt.Fprintln(tw, "ID\tNAME\tTYPE\tAUTH\tPROFILE\tTOKENS\tSUBJECT\tMIN LEVEL\tREDIRECT URIS")
			for _, c := range cs {
				s := clients.SpecOf(&c)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, c.Name, clientType(&c), s.TokenEndpointAuthMethod, orDash(c.Profile),
					s.AccessTokenFormat, c.SubjectType, c.MinLevel, strings.Join(c.RedirectURIs, " "))
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
	c.AddCommand(add, newClientUpdate(g), newClientShow(g), list, remove)
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
			_, after, err := e.registrar().Update(cmd.Context(), args[0], func(s *clients.Spec) error {
				for name, copyField := range specCopy {
					if f.Changed(name) {
						copyField(s, &in)
					}
				}
				// New keys from one source replace those of the other;
				// both at once are refused by the rules.
				if in.JWKS != "" && f.Changed("jwks") && !f.Changed("jwks-uri") {
					s.JWKSURI = ""
				}
				if in.JWKSURI != "" && f.Changed("jwks-uri") && !f.Changed("jwks") {
					s.JWKS = ""
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
			if !after.Public && after.SecretHash == "" && after.TokenEndpointAuthMethod != clients.AuthPrivateKeyJWT {
				fmt.Fprintln(g.stdout, "the client has no secret yet: give it one with a secret rotation in the console or the admin API")
			}
			return nil
		},
	}
	specFlags(cmd.Flags(), &in, g.stdin)
	return cmd
}

// specFlags defines the flags of a client's settings that both `client
// add` and `client update` take.
func specFlags(f *pflag.FlagSet, s *clients.Spec, stdin io.Reader) {
	f.StringVar(&s.Name, "name", "", "portal name shown to citizens (required to add)")
	f.StringVar(&s.LogoURL, "logo-url", "", "https URL of the portal's logo (empty: none)")
	f.StringArrayVar(&s.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable; update replaces the list)")
	f.StringArrayVar(&s.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable; update replaces the list)")
	f.IntVar(&s.MinLevel, "min-level", 1, "minimum authentication level 1-4")
	f.DurationVar(&s.MaxAuthAge, "max-auth-age", 0, "re-authenticate when the last login is older than this (0: no limit)")
	f.StringVar(&s.LegalBasis, "legal-basis", "", "law or mandate under which the portal receives personal data: citizens are notified instead of asked (empty: consent)")
	f.StringVar(&s.BackchannelLogoutURI, "backchannel-logout-uri", "", "where the portal receives logout tokens when a session it took part in ends (https; http only on loopback; empty: none)")
	f.BoolVar(&s.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false, "the portal needs the sid claim in logout tokens")
	f.StringVar(&s.TokenEndpointAuthMethod, "token-endpoint-auth-method", "",
		"client_secret_basic (default for confidential clients), client_secret_post, private_key_jwt (needs --jwks or --jwks-uri; no secret) or none (public clients)")
	f.Var(&jwksFile{dst: &s.JWKS, stdin: stdin}, "jwks", "file with the portal's public keys as a JSON Web Key Set (- for standard input; empty: none)")
	f.StringVar(&s.JWKSURI, "jwks-uri", "", "where the portal publishes its JWKS (https; http only on loopback); fetched once now to check it (empty: none)")
	f.BoolVar(&s.RequirePAR, "require-par", false, "authorization requests only through pushed authorization requests (PAR)")
	f.BoolVar(&s.RequireDPoP, "require-dpop", false, "tokens only bound to a DPoP key")
	f.StringVar(&s.Profile, "profile", "", "security profile: fapi2 (private_key_jwt, PAR, PKCE S256, DPoP required) or empty for none")
	f.StringVar(&s.AccessTokenAudience, "access-token-audience", "", "aud of the client's access tokens: the API they are for, an https URI or a URN (empty: the client id)")
	f.StringVar(&s.AccessTokenFormat, "access-token-format", clients.AccessTokenJWT,
		"jwt (RFC 9068: the portal's API checks tokens itself) or opaque (short, unreadable, unsigned: the API introspects every token)")
	f.StringVar(&s.IDTokenSignedResponseAlg, "id-token-signed-response-alg", "",
		"algorithm of the client's ID tokens, one the server publishes keys for, e.g. RS256 (empty: the server's default)")
}

// registrar registers and edits clients with the algorithms the server
// publishes keys for.
func (e *cliEnv) registrar() clients.Registrar {
	return clients.Registrar{Store: e.store, Algorithms: signingAlgorithms(&e.cfg)}
}

// signingAlgorithms are the ID token signing algorithms the server
// publishes keys for, which a client may choose among.
func signingAlgorithms(cfg *config.Config) []string {
	return cfg.Keys.SigningAlgorithms()
}

// specCopy copies one flag's setting (by flag name) from the flags' spec
// to the stored one, for `client update`.
var specCopy = map[string]func(dst, src *clients.Spec){
	"name":                                func(d, s *clients.Spec) { d.Name = s.Name },
	"logo-url":                            func(d, s *clients.Spec) { d.LogoURL = s.LogoURL },
	"redirect-uri":                        func(d, s *clients.Spec) { d.RedirectURIs = s.RedirectURIs },
	"post-logout-redirect-uri":            func(d, s *clients.Spec) { d.PostLogoutRedirectURIs = s.PostLogoutRedirectURIs },
	"min-level":                           func(d, s *clients.Spec) { d.MinLevel = s.MinLevel },
	"max-auth-age":                        func(d, s *clients.Spec) { d.MaxAuthAge = s.MaxAuthAge },
	"legal-basis":                         func(d, s *clients.Spec) { d.LegalBasis = s.LegalBasis },
	"backchannel-logout-uri":              func(d, s *clients.Spec) { d.BackchannelLogoutURI = s.BackchannelLogoutURI },
	"backchannel-logout-session-required": func(d, s *clients.Spec) { d.BackchannelLogoutSessionRequired = s.BackchannelLogoutSessionRequired },
	"token-endpoint-auth-method":          func(d, s *clients.Spec) { d.TokenEndpointAuthMethod = s.TokenEndpointAuthMethod },
	"jwks":                                func(d, s *clients.Spec) { d.JWKS = s.JWKS },
	"jwks-uri":                            func(d, s *clients.Spec) { d.JWKSURI = s.JWKSURI },
	"require-par":                         func(d, s *clients.Spec) { d.RequirePAR = s.RequirePAR },
	"require-dpop":                        func(d, s *clients.Spec) { d.RequireDPoP = s.RequireDPoP },
	"profile":                             func(d, s *clients.Spec) { d.Profile = s.Profile },
	"access-token-audience":               func(d, s *clients.Spec) { d.AccessTokenAudience = s.AccessTokenAudience },
	"access-token-format":                 func(d, s *clients.Spec) { d.AccessTokenFormat = s.AccessTokenFormat },
	"id-token-signed-response-alg":        func(d, s *clients.Spec) { d.IDTokenSignedResponseAlg = s.IDTokenSignedResponseAlg },
}
