package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/store"
)

func newCitizen(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "citizen", Short: "Citizen accounts"}
	var in citizens.NewCitizen
	var pwStdin bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Create a citizen account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pwStdin {
				return errors.New("--password-stdin is required: passwords are never taken from the command line")
			}
			pw, err := readSecret(g.stdin)
			if err != nil {
				return err
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			in.Password = pw
			created, err := citizens.Create(cmd.Context(), e.store, e.hash, in)
			if err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "citizen.create", Target: "citizen:" + created.ID, Outcome: "success",
				Details: map[string]string{"citizen_number": audit.MaskNumber(created.Number)}})
			fmt.Fprintf(g.stdout, "created citizen %s\n", created.Number)
			return nil
		},
	}
	f := add.Flags()
	f.StringVar(&in.Number, "number", "", "12-digit citizen number (required)")
	f.StringVar(&in.Name, "name", "", "full name (required)")
	f.StringVar(&in.Birthdate, "birthdate", "", "date of birth, YYYY-MM-DD")
	f.StringVar(&in.Email, "email", "", "e-mail address")
	f.StringVar(&in.Phone, "phone", "", "phone number")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")

	var after string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List citizens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			cs, err := e.store.ListCitizens(cmd.Context(), after, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NUMBER\tNAME\tIDENTITY LEVEL\tSTATUS\tCREATED")
			for _, c := range cs {
				status := "active"
				if c.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", c.Number, c.Name, c.IdentityLevel, status, c.CreatedAt.UTC().Format(time.DateOnly))
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&after, "after", "", "list citizens after this number (paging)")
	list.Flags().IntVar(&limit, "limit", 100, "how many to list")

	disable := &cobra.Command{
		Use:   "disable NUMBER",
		Short: "Disable a citizen account; its sessions and refresh tokens stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.setDisabled(cmd, args[0], true)
		},
	}
	enable := &cobra.Command{
		Use:   "enable NUMBER",
		Short: "Enable a disabled citizen account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.setDisabled(cmd, args[0], false)
		},
	}
	setLevel := &cobra.Command{
		Use:   "set-identity-level NUMBER LEVEL",
		Short: "Set how well the citizen's identity is proofed: 1 self-asserted, 2 proofed (in person or against the registry)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			level, err := strconv.Atoi(args[1])
			if err != nil || level < 1 || level > 2 {
				return fmt.Errorf("identity level must be 1 or 2, not %q", args[1])
			}
			e, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.close()
			c, err := e.store.CitizenByNumber(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no citizen with number %s", args[0])
			} else if err != nil {
				return err
			}
			before := c.IdentityLevel
			if err := e.store.UpdateCitizen(cmd.Context(), c.ID, func(c *store.Citizen) error {
				c.IdentityLevel = level
				return nil
			}); err != nil {
				return err
			}
			e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: "citizen.identity_level", Target: "citizen:" + c.ID, Outcome: "success",
				Details: map[string]string{"before": strconv.Itoa(before), "after": strconv.Itoa(level)}})
			fmt.Fprintf(g.stdout, "%s: identity level %d\n", args[0], level)
			return nil
		},
	}
	c.AddCommand(add, list, disable, enable, setLevel)
	return c
}

func (g *globals) setDisabled(cmd *cobra.Command, number string, disabled bool) error {
	e, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer e.close()
	c, err := e.store.CitizenByNumber(cmd.Context(), number)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no citizen with number %s", number)
	} else if err != nil {
		return err
	}
	err = e.store.UpdateCitizen(cmd.Context(), c.ID, func(c *store.Citizen) error {
		c.Disabled = disabled
		return nil
	})
	if err != nil {
		return err
	}
	action := "citizen.enable"
	if disabled {
		action = "citizen.disable"
	}
	e.audit.Record(cmd.Context(), audit.Event{Actor: "cli", Action: action, Target: "citizen:" + c.ID, Outcome: "success"})
	fmt.Fprintf(g.stdout, "%s: %s\n", number, strings.TrimPrefix(action, "citizen."))
	return nil
}

// readSecret reads one line from r (a pipe or a terminal), without the newline.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxSecret+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("nothing was read from standard input")
	}
	if len(line) > maxSecret {
		// Never cut a secret short silently: the stored hash would not
		// match what the operator holds.
		return "", fmt.Errorf("standard input: a line longer than %d bytes is not accepted", maxSecret)
	}
	return line, nil
}

// maxSecret bounds what is read from standard input.
const maxSecret = 4096
