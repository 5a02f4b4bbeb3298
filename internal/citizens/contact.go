package citizens

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Errors of the contact rules.
var (
	ErrEmail = errors.New("not a valid email address")
	ErrPhone = errors.New("not a valid phone number")
)

// NormalizeEmail returns the one bare address s holds, its domain in
// lower case: no display name, no list, at most 254 bytes.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return "", ErrEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", ErrEmail
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(a.Address, "<>\"\\ ") {
		return "", ErrEmail
	}
	return local + "@" + strings.ToLower(domain), nil
}

// NormalizePhone returns s in E.164 ("+84912345678"): a Vietnamese number
// as written at home ("0912 345 678") or any valid number with its
// country code ("+44 …").
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", ErrPhone
	}
	n, err := phonenumbers.Parse(s, "VN")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrPhone
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
