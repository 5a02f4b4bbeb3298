package citizens

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/ui"
)

const goodPassword = "một câu mật khẩu đủ dài 2026"

func regForm(mod func(url.Values)) url.Values {
	v := url.Values{"number": {"001090000123"}, "name": {"Lê Văn Cường"}, "birthdate": {"1990-05-17"},
		"email": {"cuong@Example.VN"}, "phone": {"0912 345 678"}, "password": {goodPassword}, "password2": {goodPassword}}
	if mod != nil {
		mod(v)
	}
	return v
}

func TestCheckNumber(t *testing.T) {
	born := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		number, birth string
		want          ui.ID
	}{
		{"001090000123", "1990-05-17", ""},
		{"079301000123", "2001-01-01", ""}, // female, born 2001
		{"001890000123", "1890-01-01", ""}, // 1800s
		{"001090000123", "", ""},           // no birthdate: structure only
		{"099090000123", "1990-05-17", ui.RegErrNumberProvince},
		{"003090000123", "1990-05-17", ui.RegErrNumberProvince},
		{"001290000123", "1990-05-17", ui.RegErrNumberCentury},
		{"001091000123", "1990-05-17", ui.RegErrNumberYear},
		{"00109000012", "1990-05-17", ui.RegErrNumberDigits},   // 11
		{"0010900001234", "1990-05-17", ui.RegErrNumberDigits}, // 13
		{"001 90000123", "1990-05-17", ui.RegErrNumberDigits},
		{"００１090000123", "1990-05-17", ui.RegErrNumberDigits}, // fullwidth digits
		{"٠٠١090000123", "1990-05-17", ui.RegErrNumberDigits}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		var got ui.ID
		var b time.Time
		if tt.birth != "" {
			b = born(tt.birth)
		}
		if fe := CheckNumber(tt.number, b); fe != nil {
			got = fe.Msg
		}
		if got != tt.want {
			t.Errorf("%q born %s: got %q, want %q", tt.number, tt.birth, got, tt.want)
		}
	}
}

func fields(errs FieldErrors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+"="+string(e.Msg))
	}
	return out
}

func TestParseRegistration(t *testing.T) {
	reg, errs := ParseRegistration(regForm(nil), password.Policy{})
	if errs != nil {
		t.Fatalf("good form: %v", errs)
	}
	want := Registration{Number: "001090000123", Name: "Lê Văn Cường", Birthdate: "1990-05-17", Email: "cuong@example.vn",
		Phone: "+84912345678", Password: goodPassword}
	if reg != want {
		t.Errorf("got %+v, want %+v", reg, want)
	}
	tests := []struct {
		name string
		mod  func(url.Values)
		want []string
	}{
		{"wrong province", func(v url.Values) { v.Set("number", "099090000123") }, []string{"number=reg_err_number_province"}},
		{"century", func(v url.Values) { v.Set("number", "001001000123"); v.Set("birthdate", "2001-05-17") }, []string{"number=reg_err_number_century"}},
		{"year", func(v url.Values) { v.Set("birthdate", "1991-05-17") }, []string{"number=reg_err_number_year"}},
		{"future birthdate", func(v url.Values) { v.Set("birthdate", "2090-05-17") }, []string{"birthdate=reg_err_birthdate"}},
		{"oversize name", func(v url.Values) { v.Set("name", strings.Repeat("a", MaxNameLen+1)) }, []string{"name=reg_err_name"}},
		{"control in name", func(v url.Values) { v.Set("name", "An\x00") }, []string{"name=reg_err_name"}},
		{"invalid UTF-8 name", func(v url.Values) { v.Set("name", "An\xff") }, []string{"name=reg_err_name"}},
		{"bad email", func(v url.Values) { v.Set("email", "An <an@example.vn>") }, []string{"email=reg_err_email"}},
		{"bad phone", func(v url.Values) { v.Set("phone", "12345") }, []string{"phone=reg_err_phone"}},
		{"no contact", func(v url.Values) { v.Del("email"); v.Set("phone", " ") }, []string{"email=reg_err_contact"}},
		{"mismatch", func(v url.Values) { v.Set("password2", "x") }, []string{"password2=reg_err_password_mismatch"}},
		{"short", func(v url.Values) { v.Set("password", "abc12"); v.Set("password2", "abc12") }, []string{"password=pw_err_short"}},
		{"common", func(v url.Values) { v.Set("password", "password123"); v.Set("password2", "password123") }, []string{"password=pw_err_common"}},
		{"from the name", func(v url.Values) { v.Set("password", "CuongLe1990"); v.Set("password2", "CuongLe1990") }, []string{"password=pw_err_personal"}},
		{"from the number", func(v url.Values) { v.Set("password", "x001090000123"); v.Set("password2", "x001090000123") }, []string{"password=pw_err_personal"}},
		{"from the birthdate", func(v url.Values) { v.Set("password", "17051990!!"); v.Set("password2", "17051990!!") }, []string{"password=pw_err_personal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, errs := ParseRegistration(regForm(tt.mod), password.Policy{})
			if got := fields(errs); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if reg != (Registration{}) {
				t.Errorf("a refused form returned %+v", reg)
			}
		})
	}
	// HTML is text: kept as typed, pages escape it.
	if reg, errs := ParseRegistration(regForm(func(v url.Values) { v.Set("name", "<b>Cường</b>") }), password.Policy{}); errs != nil || reg.Name != "<b>Cường</b>" {
		t.Errorf("HTML in a name: got %q %v", reg.Name, errs)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"0912345678": "+84912345678", "+84 91 234 5678": "+84912345678", "(028) 3829 1234": "+842838291234",
		"0912": "", "abc": "", "+1 202 555 0123": "+12025550123", "": ""} {
		got, err := NormalizePhone(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("phone %q: got %q %v, want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"an@Example.VN": "an@example.vn", " an@x.vn ": "an@x.vn", "An <an@x.vn>": "", "a@b": "", "a,b@x.vn": "",
		strings.Repeat("a", 250) + "@x.vn": ""} {
		got, err := NormalizeEmail(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("email %q: got %q %v, want %q", in, got, err, want)
		}
	}
}

func TestParseCodeAndRecovery(t *testing.T) {
	for in, want := range map[string]string{"123456": "123456", "123 456": "123456", " 123456 ": "123456", "12345": "", "１２３４５６": "", "12345a": ""} {
		got, ok := ParseCode(url.Values{"code": {in}})
		if ok != (want != "") || got != want {
			t.Errorf("code %q: got %q %v, want %q", in, got, ok, want)
		}
	}
	if n, errs := ParseRecoveryStart(url.Values{"number": {" 001090000123 "}}); errs != nil || n != "001090000123" {
		t.Errorf("recovery number: got %q %v", n, errs)
	}
	if _, errs := ParseRecoveryStart(url.Values{"number": {"0010900001"}}); len(errs) != 1 || errs[0].Field != "number" {
		t.Errorf("short recovery number: got %v", errs)
	}
}

var knownFields = []string{"number", "name", "birthdate", "email", "phone", "password", "password2"}

func FuzzParseRegistration(f *testing.F) {
	f.Add("001090000123", "Lê Văn Cường", "1990-05-17", "an@x.vn", "0912345678", goodPassword, goodPassword)
	f.Add("099290000123", "<script>", "2090-13-40", "a@@b", "+", "", "x")
	f.Fuzz(func(t *testing.T, number, name, birth, email, phone, pw, pw2 string) {
		form := url.Values{"number": {number}, "name": {name}, "birthdate": {birth}, "email": {email}, "phone": {phone}, "password": {pw}, "password2": {pw2}}
		reg, errs := ParseRegistration(form, password.Policy{})
		seen := map[string]bool{}
		for _, e := range errs {
			if !slices.Contains(knownFields, e.Field) || seen[e.Field] || e.Msg == "" {
				t.Fatalf("field error %+v (seen %v)", e, seen)
			}
			seen[e.Field] = true
		}
		if errs != nil {
			if reg != (Registration{}) {
				t.Fatalf("errors and a value: %+v", reg)
			}
			return
		}
		b, _ := time.Parse(time.DateOnly, reg.Birthdate)
		if CheckNumber(reg.Number, b) != nil || !utf8.ValidString(reg.Name) || reg.Name == "" ||
			(reg.Phone != "" && !strings.HasPrefix(reg.Phone, "+")) || (reg.Email == "" && reg.Phone == "") || reg.Password != pw {
			t.Fatalf("accepted %+v", reg)
		}
	})
}

func FuzzParseRecoveryStart(f *testing.F) {
	f.Add("001090000123")
	f.Add("٠٠١090000123")
	f.Fuzz(func(t *testing.T, number string) {
		n, errs := ParseRecoveryStart(url.Values{"number": {number}})
		if (errs == nil) == (n == "") || (n != "" && (len(n) != 12 || strings.Trim(n, "0123456789") != "")) {
			t.Fatalf("%q: got %q %v", number, n, errs)
		}
	})
}

func FuzzParseCode(f *testing.F) {
	f.Add("123 456")
	f.Fuzz(func(t *testing.T, code string) {
		c, ok := ParseCode(url.Values{"code": {code}})
		if ok != (c != "") || (ok && (len(c) != 6 || strings.Trim(c, "0123456789") != "")) {
			t.Fatalf("%q: got %q %v", code, c, ok)
		}
	})
}
