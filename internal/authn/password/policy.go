package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/citizenid/citizenid/internal/ui"
)

// Policy is what a new password must be, after NIST SP 800-63B §5.1.1.2:
// long enough, no composition rules ("one digit, one symbol"), and not a
// password an attacker tries first — a common or breached one, one
// character repeated, or one made of the citizen's own number, name or
// birthdate. Logins verify whatever was stored; the policy is for
// choosing.
type Policy struct {
	// MinLength in characters; 0 means MinLength (8). NIST's minimum is 8.
	MinLength int
}

// Personal is what a citizen's new password must not be made of.
type Personal struct {
	Number    string
	Name      string
	Birthdate string // YYYY-MM-DD or empty
}

// Problem says why a password is refused, as a catalogue message and the
// values its placeholders take.
type Problem struct {
	Msg  ui.ID
	Args []any
}

func init() {
	// zxcvbn built its ranked dictionaries from these word lists when its
	// package was initialised, before this one, and never reads them
	// again: letting them go frees about 2 MB of heap (the headers of
	// 94,000 strings) for the life of the process.
	frequency.FrequencyLists = nil
}

// minGuesses is the fewest guesses an estimate of the password may need:
// zxcvbn's score 2 (10^6 guesses and more: "somewhat guessable"), below
// which a password is on the lists attackers try first (its embedded
// lists of common passwords, names and words, and keyboard patterns) or
// is trivially built from the citizen's own details, which it is given.
const minGuesses = 1e6

// Check returns nil when pw may be chosen by who, else the problem. It
// judges the NFKC-normalised password, as it will be hashed.
func (p Policy) Check(pw string, who Personal) *Problem {
	min := p.MinLength
	if min <= 0 {
		min = MinLength
	}
	pw = norm.NFKC.String(pw)
	n := utf8.RuneCountInString(pw)
	switch {
	case n < min:
		return &Problem{Msg: ui.PwErrShort, Args: []any{min}}
	case n > MaxLength:
		return &Problem{Msg: ui.PwErrLong, Args: []any{MaxLength}}
	}
	if derived(pw, who) {
		return &Problem{Msg: ui.PwErrPersonal}
	}
	if common(pw) {
		return &Problem{Msg: ui.PwErrCommon}
	}
	if zxcvbn.PasswordStrength(pw, personalWords(who)).Guesses < minGuesses {
		return &Problem{Msg: ui.PwErrCommon}
	}
	return nil
}

// derived reports whether pw, folded (lower case, no diacritics, no
// spaces or punctuation), is made of the citizen's details: it contains
// the number or the birthdate in a usual form, or it is nothing but words
// of the name and digits.
func derived(pw string, who Personal) bool {
	f := fold(pw)
	if f == "" {
		return false
	}
	if who.Number != "" && strings.Contains(f, who.Number) {
		return true
	}
	for _, d := range birthdateForms(who.Birthdate) {
		if strings.Contains(f, d) && len(f) < len(d)+6 {
			return true
		}
	}
	// Words of the name and digits, nothing else ("cuongle1990").
	rest, named := f, false
	for _, w := range strings.Fields(foldKeepSpaces(who.Name)) {
		if len(w) >= 2 && strings.Contains(rest, w) {
			rest, named = strings.ReplaceAll(rest, w, ""), true
		}
	}
	return named && strings.Trim(rest, "0123456789") == ""
}

// birthdateForms are the ways people write a birthdate in a password.
func birthdateForms(b string) []string {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return nil
	}
	y, m, d := b[:4], b[5:7], b[8:10]
	return []string{d + m + y, y + m + d, d + m + y[2:], m + d + y}
}

// personalWords are the citizen's details as zxcvbn's user inputs.
func personalWords(who Personal) []string {
	out := []string{who.Number, who.Birthdate, strings.ReplaceAll(who.Birthdate, "-", "")}
	out = append(out, strings.Fields(foldKeepSpaces(who.Name))...)
	return out
}

var stripMarks = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// foldKeepSpaces lower-cases s and removes diacritics (đ → d too).
func foldKeepSpaces(s string) string {
	out, _, err := transform.String(stripMarks, s)
	if err != nil {
		out = s
	}
	return strings.NewReplacer("đ", "d", "Đ", "d").Replace(strings.ToLower(out))
}

// fold is foldKeepSpaces keeping only letters and digits.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, foldKeepSpaces(s))
}
