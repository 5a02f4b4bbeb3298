package password

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// Length limits of Check, in characters (Unicode code points), after NIST
// SP 800-63B §5.1.1.2: at least 8; at least 64 must be allowed, and we allow
// 128 so that passphrases fit while the work per login stays bounded.
const (
	MinLength = 8
	MaxLength = 128
)

// Errors returned by Check. Callers branch on them with errors.Is to pick
// the message shown to the citizen.
var (
	ErrTooShort = errors.New("password: shorter than 8 characters")
	ErrTooLong  = errors.New("password: longer than 128 characters")
	// ErrCommon: on the blocklist of common passwords, or a single
	// character repeated.
	ErrCommon = errors.New("password: too common or too easy to guess")
)

//go:embed blocklist.txt
var blocklistText string

var blocklist = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 512)
	for line := range strings.Lines(blocklistText) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// Check reports whether password may be chosen as a new password. It applies
// the NIST SP 800-63B rules and no composition rules (no "one digit, one
// symbol"): length between [MinLength] and [MaxLength] characters, not on
// the embedded blocklist (compared case-insensitively), and not one
// character repeated. Spaces and every Unicode character are allowed.
//
// Check is for choosing a password; logins verify whatever was stored.
func Check(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinLength:
		return ErrTooShort
	case n > MaxLength:
		return ErrTooLong
	}
	if common(password) {
		return ErrCommon
	}
	return nil
}

// common reports whether password is on the blocklist (compared
// case-insensitively) or one character repeated.
func common(password string) bool {
	_, listed := blocklist()[strings.ToLower(password)]
	return listed || repeated(password)
}

// repeated reports whether s is one rune repeated.
func repeated(s string) bool {
	first, size := utf8.DecodeRuneInString(s)
	for _, r := range s[size:] {
		if r != first {
			return false
		}
	}
	return true
}
