// Package assurance owns the authentication-level scale (1 low … 4 very
// high), the mapping between levels and acr strings (OIDC) or
// AuthnContextClassRef values (SAML), the amr values of RFC 8176, and the
// step-up policy: Evaluate decides which level a session still holds for a
// request and what the login flow must still ask. It knows nothing of HTTP,
// protocols or authenticators, and reads no clock.
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

// MaxACRValuesLen is the longest acr_values ParseACRValues accepts, in bytes.
const MaxACRValuesLen = 2048

// ParseACRValues reads a space-separated acr_values (OIDC Core §3.1.2.1)
// as a minimum level: the lowest level among the values t recognises.
// Unknown values are ignored; ok is false when none is recognised or the
// input is longer than MaxACRValuesLen. A nil t means the default acr
// strings.
func ParseACRValues(t *Table, acrValues string) (Level, bool) {
	if len(acrValues) > MaxACRValuesLen {
		return 0, false
	}
	if t == nil {
		t = defaultTable
	}
	var lowest Level
	for v := range strings.SplitSeq(acrValues, " ") {
		if l, ok := t.level[v]; ok && (lowest == 0 || l < lowest) {
			lowest = l
		}
	}
	return lowest, lowest != 0
}

// defaultTable is NewTable(nil), for ParseACRValues with a nil table.
var defaultTable = func() *Table {
	t, err := NewTable(nil)
	if err != nil {
		panic("assurance: default acr table: " + err.Error())
	}
	return t
}()

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
