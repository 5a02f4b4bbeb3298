// Package release names the personal data CitizenID can release to a
// portal: the attributes a citizen approves on the consent page, a portal's
// legal basis covers, and the data-release ledger records (names, never
// values). OIDC scopes and SAML attribute names map onto the same
// vocabulary, so a citizen reads one list whatever protocol the portal
// speaks.
//
// It decides nothing about whether a portal may receive an attribute: the
// client and service-provider rules do (internal/clients, internal/saml).
package release

import (
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/ui"
)

// Attribute is one kind of personal data.
type Attribute string

// The attributes, in the order pages list them.
const (
	Name          Attribute = "name"
	Birthdate     Attribute = "birthdate"
	CitizenNumber Attribute = "citizen_number"
	IdentityLevel Attribute = "identity_level"
	Email         Attribute = "email"
	Phone         Attribute = "phone"
	Certificate   Attribute = "certificate"
)

var order = []Attribute{Name, Birthdate, CitizenNumber, IdentityLevel, Email, Phone, Certificate}

// Label is the attribute's plain-language name in the message catalogue
// ("Họ và tên", "Ngày sinh", …).
func (a Attribute) Label() ui.ID {
	switch a {
	case Name:
		return ui.AttrName
	case Birthdate:
		return ui.AttrBirthdate
	case CitizenNumber:
		return ui.AttrCitizenNumber
	case IdentityLevel:
		return ui.AttrIdentityLevel
	case Email:
		return ui.AttrEmail
	case Phone:
		return ui.AttrPhone
	case Certificate:
		return ui.AttrCertificate
	}
	return ui.AttrUnknown
}

// Known reports whether a is one of the attributes above.
func (a Attribute) Known() bool { return slices.Contains(order, a) }

// Scopes are the OIDC scopes that release personal data, and what each
// releases. openid and offline_access release nothing by themselves (the
// pairwise subject identifies nobody outside the portal).
var Scopes = map[string][]Attribute{
	"profile":        {Name, Birthdate, IdentityLevel},
	"email":          {Email},
	"phone":          {Phone},
	"citizen_number": {CitizenNumber},
	"certificate":    {Certificate},
}

// ForScopes is what the granted scopes release, in page order, without
// duplicates. allowed, when not nil, filters out scopes the portal is not
// permitted (a citizen_number scope of a client not allowed it releases
// nothing, so nothing is asked or recorded).
func ForScopes(scopes []string, allowed func(scope string) bool) []Attribute {
	var out []Attribute
	for _, s := range scopes {
		if allowed != nil && !allowed(s) {
			continue
		}
		out = append(out, Scopes[s]...)
	}
	return Sort(out)
}

// Sort orders attributes as pages list them and drops duplicates and
// unknown names.
func Sort(as []Attribute) []Attribute {
	var out []Attribute
	for _, a := range order {
		if slices.Contains(as, a) {
			out = append(out, a)
		}
	}
	return out
}

// Covers reports whether every attribute of want is in have.
func Covers(have, want []Attribute) bool {
	for _, a := range want {
		if !slices.Contains(have, a) {
			return false
		}
	}
	return true
}

// Strings converts for storage.
func Strings(as []Attribute) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// Parse converts from storage, dropping unknown names.
func Parse(ss []string) []Attribute {
	as := make([]Attribute, len(ss))
	for i, s := range ss {
		as[i] = Attribute(s)
	}
	return Sort(as)
}

// MaxLegalBasis is the longest legal basis a portal may be registered
// with, in characters.
const MaxLegalBasis = 500

// CheckLegalBasis checks the legal basis of a portal (an OIDC client or a
// SAML service provider) as citizens will read it on the notice: empty
// (the portal needs consent), or one line of at most MaxLegalBasis
// characters.
func CheckLegalBasis(b string) error {
	if !utf8.ValidString(b) || utf8.RuneCountInString(b) > MaxLegalBasis {
		return fmt.Errorf("legal basis: at most %d characters", MaxLegalBasis)
	}
	for _, r := range b {
		if unicode.IsControl(r) {
			return errors.New("legal basis: one line of text, without control characters")
		}
	}
	return nil
}
