package password

import (
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/login"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		name, body, problem string
	}{
		{"good", "number=079201000123&password=secret+words", ""},
		{"short number", "number=07920100012&password=x", "err_number_format"},
		{"letters", "number=0792010001ab&password=x", "err_number_format"},
		{"unicode digits", "number=%D9%A07920100012&password=x", "err_number_format"},
		{"empty password", "number=079201000123&password=", "err_credentials"},
		{"duplicate", "number=079201000123&number=079201000124&password=x", "err_form"},
		{"invalid utf-8 password", "number=079201000123&password=%ff", "err_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if _, got := parseForm(v); got != tt.problem {
				t.Errorf("got problem %q, want %q", got, tt.problem)
			}
		})
	}
}

// FuzzParseForm: a usable form always has a 12-digit number and a
// bounded, valid UTF-8 password; a refused one never hands a password on.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"number=079201000123&password=abc", "number=1&password=", "number=079201000123&number=1", "%%%", "password=" + string(make([]byte, 2000))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, problem := parseForm(v)
		switch problem {
		case "":
			if !login.ValidCitizenNumber(form.Number) || form.Password == "" || len(form.Password) > MaxBytes || !utf8.ValidString(form.Password) {
				t.Fatalf("accepted %q as %+v", body, form)
			}
		case "err_number_format", "err_form", "err_credentials":
			if form.Password != "" {
				t.Fatalf("refused form %q still carries a password", body)
			}
		default:
			t.Fatalf("unknown problem %q", problem)
		}
	})
}
