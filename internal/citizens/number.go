package citizens

import (
	_ "embed"
	"strings"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/ui"
)

// A citizen number (số định danh cá nhân, on the CCCD card) is 12 ASCII
// digits: the province code of the birth registration (3 digits, the list
// in provinces.tsv), a digit for the century of birth and sex (0/1 born
// 1900–1999, 2/3 2000–2099, 4/5 2100–2199, 6/7 2200–2299, 8/9 1800–1899;
// even male, odd female), the last two digits of the birth year, and six
// random digits. Registration checks the structure against the birthdate
// the citizen gives; it cannot check that the number is theirs (an
// operator proofs that: identity level 2).

//go:embed provinces.tsv
var provincesTSV string

// provinces maps the codes to names.
var provinces = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(provincesTSV) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, name, _ := strings.Cut(line, "\t")
		m[code] = strings.TrimSpace(name)
	}
	return m
})

// ProvinceName is the name of a province code, "" when unknown.
func ProvinceName(code string) string { return provinces()[code] }

// centuryBase is the first year of the century of each century digit.
var centuryBase = [10]int{1900, 1900, 2000, 2000, 2100, 2100, 2200, 2200, 1800, 1800}

// CheckNumber checks the structure of number against birthdate (zero:
// not known, the century and year are not checked). It returns nil or
// the field error of "number".
func CheckNumber(number string, birthdate time.Time) *FieldError {
	if len(number) != 12 || strings.Trim(number, "0123456789") != "" {
		return &FieldError{Field: "number", Msg: ui.RegErrNumberDigits}
	}
	if ProvinceName(number[:3]) == "" {
		return &FieldError{Field: "number", Msg: ui.RegErrNumberProvince, Args: []any{number[:3]}}
	}
	if birthdate.IsZero() {
		return nil
	}
	y := birthdate.Year()
	if base := centuryBase[number[3]-'0']; y < base || y >= base+100 {
		return &FieldError{Field: "number", Msg: ui.RegErrNumberCentury}
	}
	if number[4:6] != twoDigits(y%100) {
		return &FieldError{Field: "number", Msg: ui.RegErrNumberYear}
	}
	return nil
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
