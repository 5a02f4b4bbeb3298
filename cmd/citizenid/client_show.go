package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

// newClientShow is `client show ID`: a portal's settings and keys, never
// its secret.
func newClientShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a portal's settings and registered keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			c, err := e.store.ClientByID(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no client %q", args[0])
			} else if err != nil {
				return err
			}
			return showClient(cmd.Context(), g.stdout, c, clientkeys.NewFetcher(nil, nil))
		},
	}
}

func showClient(ctx context.Context, w io.Writer, c *store.Client, keys *clientkeys.Fetcher) error {
	s := clients.SpecOf(c)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("id", c.ID)
	line("name", c.Name)
	line("type", clientType(c))
	line("disabled", fmt.Sprint(c.Disabled))
	line("token endpoint auth method", s.TokenEndpointAuthMethod)
	line("profile", orDash(c.Profile))
	line("require PAR", fmt.Sprint(c.RequirePAR))
	line("require DPoP", fmt.Sprint(c.RequireDPoP))
	line("access token audience", orDash(c.AccessTokenAudience))
	line("access token format", s.AccessTokenFormat)
	line("ID token signing algorithm", cmp.Or(s.IDTokenSignedResponseAlg, "server default"))
	line("redirect URIs", strings.Join(c.RedirectURIs, " "))
	line("post-logout redirect URIs", orDash(strings.Join(c.PostLogoutRedirectURIs, " ")))
	line("subject type", s.SubjectType)
	line("sector", orDash(c.SectorIdentifier))
	line("min level", fmt.Sprint(s.MinLevel))
	line("scopes", orDash(strings.Join(c.Scopes, " ")))
	line("legal basis", orDash(c.LegalBasis))
	line("back-channel logout URI", orDash(c.BackchannelLogoutURI))
	line("jwks URI", orDash(c.JWKSURI))
	if err := tw.Flush(); err != nil {
		return err
	}
	var infos []clients.KeyInfo
	switch {
	case c.JWKS != "":
		ks, err := clients.StoredKeys(c.JWKS)
		if err != nil {
			fmt.Fprintf(w, "keys: the stored key set does not parse: %v\n", err)
			return nil
		}
		infos = ks
	case c.JWKSURI != "":
		set, err := keys.Fetch(ctx, c.JWKSURI)
		if err != nil {
			fmt.Fprintf(w, "keys: cannot fetch them now: %v\n", err)
			return nil
		}
		infos = clients.DescribeKeys(set)
	default:
		fmt.Fprintln(w, "keys: none registered")
		return nil
	}
	fmt.Fprintln(w, "keys:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KID\tALGORITHMS\tTYPE\tCERTIFICATE EXPIRES")
	for _, k := range infos {
		exp := "-"
		if !k.NotAfter.IsZero() {
			exp = k.NotAfter.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", orDash(k.ID), strings.Join(k.Algorithms, ","), k.Type, exp)
	}
	return tw.Flush()
}

func clientType(c *store.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// jwksFile is the --jwks flag: the name of a file holding a JWKS (- for
// standard input), read when the flag is parsed; empty clears the keys.
type jwksFile struct {
	dst   *string
	stdin io.Reader
	name  string
}

// maxJWKSFile bounds what --jwks reads; the rules refuse a larger set.
const maxJWKSFile = clientkeys.MaxSetBytes + 1

func (j *jwksFile) String() string { return j.name }
func (j *jwksFile) Type() string   { return "file" }

func (j *jwksFile) Set(name string) error {
	j.name = name
	if name == "" {
		*j.dst = ""
		return nil
	}
	var r io.Reader = j.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxJWKSFile))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return fmt.Errorf("%s is empty", name)
	}
	*j.dst = string(b)
	return nil
}
