package citizens

// TEMPORARY stand-in until the rules branch merges.

import (
	"net/url"

	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/ui"
)

type FieldErrors []struct {
	Field string
	Msg   ui.ID
}

type Registration struct{ Number, Name, Birthdate, Email, Phone, Password string }

func ParseRegistration(form url.Values, p password.Policy) (Registration, FieldErrors) {
	return Registration{}, nil
}
func ParseRecoveryStart(form url.Values) (string, FieldErrors) { return "", nil }
func ParseNewPassword(form url.Values, p password.Policy, personal password.Personal) (string, FieldErrors) {
	return "", nil
}
func ParseCode(form url.Values) (string, bool)     { return "", false }
func NormalizeEmail(s string) (string, error)      { return s, nil }
func NormalizePhone(s string) (string, error)      { return s, nil }
