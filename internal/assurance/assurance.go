// Package assurance owns the authentication-level scale (1 low … 4 very
// high), the mapping between levels and acr strings (OIDC) or
// AuthnContextClassRef values (SAML), and the amr values of RFC 8176. It
// knows nothing of HTTP, protocols or authenticators.
package assurance

import (
	"fmt"
	"slices"
	"strings"
)

// Level is an authentication level, 1..4. Zero means "none".
type Level int

// The levels of DESIGN.md.
const (
	Low         Level = 1
	Substantial Level = 2
	High        Level = 3
	VeryHigh    Level = 4
)

// amr values (RFC 8176) used by CitizenID.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	AMRHardware = "hwk"
	AMRSoftware = "swk"
	AMRUser     = "user"
	AMRPIN      = "pin"
	AMRSmart    = "sc"
)

// DefaultACR is the default acr string for each level.
var DefaultACR = map[Level]string{
	Low:         "urn:citizenid:loa:1",
	Substantial: "urn:citizenid:loa:2",
	High:        "urn:citizenid:loa:3",
	VeryHigh:    "urn:citizenid:loa:4",
}

// eIDAS LoA URIs understood as aliases (never emitted).
var eidasAliases = map[string]Level{
	"http://eidas.europa.eu/LoA/low":         Low,
	"http://eidas.europa.eu/LoA/substantial": Substantial,
	"http://eidas.europa.eu/LoA/high":        High,
}

// Table maps levels to acr strings and back.
type Table struct {
	acr   map[Level]string
	level map[string]Level
}

// NewTable builds a table from acr strings per level (nil: defaults).
func NewTable(acr map[Level]string) (*Table, error) {
	if acr == nil {
		acr = DefaultACR
	}
	t := &Table{acr: map[Level]string{}, level: map[string]Level{}}
	for l := Low; l <= VeryHigh; l++ {
		s := strings.TrimSpace(acr[l])
		if s == "" {
			return nil, fmt.Errorf("acr for level %d is empty", l)
		}
		if _, dup := t.level[s]; dup {
			return nil, fmt.Errorf("acr %q is used for two levels", s)
		}
		t.acr[l] = s
		t.level[s] = l
	}
	for s, l := range eidasAliases {
		if _, taken := t.level[s]; !taken {
			t.level[s] = l
		}
	}
	return t, nil
}

// ACR is the acr string of level l ("" for levels outside 1..4).
func (t *Table) ACR(l Level) string { return t.acr[l] }

// Level parses an acr string; ok is false when it is unknown.
func (t *Table) Level(acr string) (Level, bool) {
	l, ok := t.level[acr]
	return l, ok
}

// Supported lists the acr strings a portal may ask for, lowest level first.
func (t *Table) Supported() []string {
	out := make([]string, 0, 4)
	for l := Low; l <= VeryHigh; l++ {
		out = append(out, t.acr[l])
	}
	return out
}

// AMR merges the amr values of several methods, without duplicates, in a
// stable order.
func AMR(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		for _, v := range p {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}
