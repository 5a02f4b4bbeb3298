package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

func newSP(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "sp", Short: "SAML service providers (older portals)"}
	var spec saml.SPSpec
	var metadata, attributes string
	add := &cobra.Command{
		Use:   "add --metadata FILE|URL",
		Short: "Register a SAML service provider from its metadata",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			md, err := readMetadata(cmd, metadata, cfg.SAML.MetadataAllowedHosts)
			if err != nil {
				return err
			}
			spec.MetadataXML = md
			if cmd.Flags().Changed("attributes") {
				spec.Attributes = []string{}
				for a := range strings.SplitSeq(attributes, ",") {
					if a = strings.TrimSpace(a); a != "" {
						spec.Attributes = append(spec.Attributes, a)
					}
				}
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			sp, err := saml.Register(cmd.Context(), e.store, spec)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("a service provider with this entity ID is registered already (sp remove it first)")
			} else if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "sp.create", Target: "sp:" + sp.EntityID, Outcome: "success",
				Details: map[string]string{"attributes": strings.Join(sp.Attributes, " "), "min_level": strconv.Itoa(sp.MinLevel),
					"citizen_number": strconv.FormatBool(sp.AllowCitizenNumber)}})
			fmt.Fprintf(g.stdout, "registered service provider %s (%s)\n", sp.EntityID, sp.Name)
			fmt.Fprintf(g.stdout, "assertion consumer services: %s\n", strings.Join(sp.ACSURLs, " "))
			fmt.Fprintf(g.stdout, "CitizenID's metadata for it: %s/saml/metadata\n", strings.TrimSuffix(e.cfg.Server.Issuer, "/"))
			return nil
		},
	}
	f := add.Flags()
	f.StringVar(&metadata, "metadata", "", "the SP's metadata: a file, or an http(s) URL (required)")
	f.StringVar(&spec.Name, "name", "", "name shown to citizens (default: the metadata's organization)")
	f.IntVar(&spec.MinLevel, "min-level", 1, "minimum authentication level 1-4")
	f.StringVar(&attributes, "attributes", "identity_level", "attributes to release, comma-separated: "+strings.Join(saml.KnownAttributes, ","))
	f.StringVar(&spec.NameIDFormat, "nameid-format", "", "persistent (pairwise), transient or citizen-number (default: from the metadata, else persistent)")
	f.BoolVar(&spec.AllowCitizenNumber, "allow-citizen-number", false, "the SP may receive the citizen number")
	f.BoolVar(&spec.EncryptAssertions, "encrypt", false, "encrypt assertions to the SP's encryption certificate")
	f.BoolVar(&spec.RequireSignedRequests, "require-signed-requests", false, "refuse AuthnRequests not signed with the SP's key")
	f.BoolVar(&spec.AllowIdPInitiated, "idp-initiated", false, "allow unsolicited logins from /saml/idp-initiated?sp=ENTITYID")
	f.StringVar(&spec.LegalBasis, "legal-basis", "", "law or mandate under which the SP receives personal data: citizens are notified instead of asked (empty: consent)")
	add.MarkFlagRequired("metadata")

	list := &cobra.Command{
		Use:   "list",
		Short: "List SAML service providers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			sps, err := e.store.ListServiceProviders(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ENTITY ID\tNAME\tMIN LEVEL\tNAMEID\tATTRIBUTES\tOPTIONS\tACS")
			for _, sp := range sps {
				var opts []string
				for _, o := range []struct {
					on   bool
					name string
				}{{sp.AllowCitizenNumber, "citizen-number"}, {sp.EncryptAssertions, "encrypt"},
					{sp.RequireSignedRequests, "signed-requests"}, {sp.AllowIdPInitiated, "idp-initiated"}, {sp.Disabled, "disabled"}} {
					if o.on {
						opts = append(opts, o.name)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", sp.EntityID, sp.Name, sp.MinLevel, spNameIDFormat(sp.NameIDFormat),
					spDash(strings.Join(sp.Attributes, ",")), spDash(strings.Join(opts, ",")), strings.Join(sp.ACSURLs, " "))
			}
			return tw.Flush()
		},
	}
	remove := &cobra.Command{
		Use:   "remove ENTITYID",
		Short: "Remove a SAML service provider; it gets no more assertions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			if err := e.store.DeleteServiceProvider(cmd.Context(), args[0]); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no service provider %q", args[0])
			} else if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "sp.delete", Target: "sp:" + args[0], Outcome: "success"})
			fmt.Fprintf(g.stdout, "removed service provider %s\n", args[0])
			return nil
		},
	}
	c.AddCommand(add, list, remove)
	return c
}

// readMetadata reads SP metadata from an http(s) URL (with a timeout and
// a size limit) or a file ("-" is standard input).
func readMetadata(cmd *cobra.Command, from string, allowed []string) ([]byte, error) {
	switch {
	case strings.HasPrefix(from, "https://") || strings.HasPrefix(from, "http://"):
		b, err := saml.FetchMetadata(cmd.Context(), from, saml.FetchOptions{AllowedHosts: allowed})
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", err, saml.FetchCause(err)) // the operator's own terminal: the cause helps
		}
		return b, nil
	case from == "-":
		return readMetadataLimited(cmd.InOrStdin())
	default:
		f, err := os.Open(from)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readMetadataLimited(f)
	}
}

func readMetadataLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, saml.MaxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > saml.MaxMetadataSize {
		return nil, fmt.Errorf("metadata: larger than %d bytes", saml.MaxMetadataSize)
	}
	return b, nil
}

func spNameIDFormat(f string) string {
	switch f {
	case saml.NameIDPersistent:
		return "persistent"
	case saml.NameIDTransient:
		return "transient"
	case saml.NameIDCitizenNumber:
		return "citizen-number"
	}
	return f
}

func spDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
