package citizens

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/ui"
)

// The parsers of the forms citizens fill in without an account
// (/register, /recover) and of new passwords. They face the internet:
// they never panic, keep nothing they did not check, and name each field
// that is wrong so a page can put its message beside it.

// FieldError is one field's problem: the input's name, a catalogue
// message and the values of its placeholders.
type FieldError struct {
	Field string
	Msg   ui.ID
	Args  []any
}

// FieldErrors are a form's problems, in the order of its fields.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Field + ": " + string(fe.Msg)
	}
	return "invalid form: " + strings.Join(parts, ", ")
}

// Registration is a checked registration form.
type Registration struct {
	Number    string
	Name      string // NFC, trimmed; may hold any printable text (pages escape it)
	Birthdate string // YYYY-MM-DD
	Email     string // normalised, or ""
	Phone     string // E.164, or ""
	Password  string
}

// MaxNameLen is the longest name in characters.
const MaxNameLen = 200

// ParseRegistration checks the registration form: number, name,
// birthdate, email and/or phone, password and password2.
func ParseRegistration(form url.Values, p password.Policy) (Registration, FieldErrors) {
	var errs FieldErrors
	add := func(field string, msg ui.ID, args ...any) { errs = append(errs, FieldError{field, msg, args}) }
	reg := Registration{Number: strings.TrimSpace(form.Get("number"))}
	name, birth, ok := parseName(form.Get("name")), time.Time{}, false
	if name == "" {
		add("name", ui.RegErrName, MaxNameLen)
	}
	if birth, ok = parseBirthdate(form.Get("birthdate")); !ok {
		add("birthdate", ui.RegErrBirthdate)
	}
	if fe := CheckNumber(reg.Number, birth); fe != nil {
		errs = append(FieldErrors{*fe}, errs...) // the number is the form's first field
	}
	if e := strings.TrimSpace(form.Get("email")); e != "" {
		if reg.Email, ok = ok2(NormalizeEmail(e)); !ok {
			add("email", ui.RegErrEmail)
		}
	}
	if ph := strings.TrimSpace(form.Get("phone")); ph != "" {
		if reg.Phone, ok = ok2(NormalizePhone(ph)); !ok {
			add("phone", ui.RegErrPhone)
		}
	}
	if strings.TrimSpace(form.Get("email")) == "" && strings.TrimSpace(form.Get("phone")) == "" {
		add("email", ui.RegErrContact)
	}
	reg.Name = name
	if !birth.IsZero() {
		reg.Birthdate = birth.Format(time.DateOnly)
	}
	pw, pwErrs := ParseNewPassword(form, p, password.Personal{Number: reg.Number, Name: name, Birthdate: reg.Birthdate})
	errs = append(errs, pwErrs...)
	reg.Password = pw
	if len(errs) > 0 {
		return Registration{}, errs
	}
	return reg, nil
}

func ok2(s string, err error) (string, bool) { return s, err == nil }

// parseName trims and NFC-normalises a name; "" when it is empty, too
// long or holds control characters or invalid UTF-8.
func parseName(s string) string {
	if !utf8.ValidString(s) {
		return ""
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" || utf8.RuneCountInString(s) > MaxNameLen || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ""
	}
	return s
}

// parseBirthdate reads YYYY-MM-DD (what <input type=date> sends): a day
// between 1900-01-01 and today.
func parseBirthdate(s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil || d.Year() < 1900 || d.After(time.Now()) {
		return time.Time{}, false
	}
	return d, true
}

// ParseRecoveryStart checks the first recovery form: a citizen number of
// 12 ASCII digits (its structure is not checked: the answer must not say
// whether it exists, and a malformed number exists nowhere).
func ParseRecoveryStart(form url.Values) (string, FieldErrors) {
	n := strings.TrimSpace(form.Get("number"))
	if len(n) != 12 || strings.Trim(n, "0123456789") != "" {
		return "", FieldErrors{{Field: "number", Msg: ui.RegErrNumberDigits}}
	}
	return n, nil
}

// ParseNewPassword checks password and password2 of a form against the
// policy and the citizen's details.
func ParseNewPassword(form url.Values, p password.Policy, who password.Personal) (string, FieldErrors) {
	pw := form.Get("password")
	if prob := p.Check(pw, who); prob != nil {
		return "", FieldErrors{{Field: "password", Msg: prob.Msg, Args: prob.Args}}
	}
	if form.Get("password2") != pw {
		return "", FieldErrors{{Field: "password2", Msg: ui.RegErrPasswordMismatch}}
	}
	return pw, nil
}

// ParseCode reads the 6-digit code field "code" (spaces between digits
// allowed, as people copy "123 456").
func ParseCode(form url.Values) (string, bool) {
	c := strings.Join(strings.Fields(form.Get("code")), "")
	if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
		return "", false
	}
	return c, true
}

// Text is a field error's message in lang, through t (the renderer's
// catalogue lookup).
func (fe FieldError) Text(t func(lang, key string) string, lang string) string {
	if len(fe.Args) == 0 {
		return t(lang, string(fe.Msg))
	}
	return fmt.Sprintf(t(lang, string(fe.Msg)), fe.Args...)
}
