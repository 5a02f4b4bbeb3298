package login

import (
	"net/url"
	"unicode/utf8"
)

// MaxPasswordBytes bounds what is hashed, so a huge password cannot be used
// to burn CPU; longer input is refused before any lookup.
const MaxPasswordBytes = 1024

// passwordForm is the parsed login form.
type passwordForm struct {
	Number   string
	Password string
}

// parsePasswordForm validates the login form. It returns the message key
// of the problem, or "" when the form is usable. The citizen number is
// checked to be exactly 12 ASCII digits before any lookup.
func parsePasswordForm(v url.Values) (passwordForm, string) {
	f := passwordForm{Number: v.Get("number"), Password: v.Get("password")}
	if len(v["number"]) > 1 || len(v["password"]) > 1 {
		return passwordForm{}, "err_form"
	}
	if !ValidCitizenNumber(f.Number) {
		f.Number = ""
		f.Password = ""
		return f, "err_number_format"
	}
	if f.Password == "" || len(f.Password) > MaxPasswordBytes || !utf8.ValidString(f.Password) {
		f.Password = ""
		return f, "err_credentials"
	}
	return f, ""
}

// ValidCitizenNumber reports whether s is exactly 12 ASCII digits.
func ValidCitizenNumber(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
