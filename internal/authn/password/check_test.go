package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"empty", "", ErrTooShort},
		{"7 chars", "abcdxyz", ErrTooShort},
		{"8 chars", "abcdxyzq", nil},
		{"7 runes but 14 bytes", "ấấbcdef", ErrTooShort},
		{"8 Vietnamese runes", "mậtkhẩuơ", nil},
		{"passphrase with spaces", "ngựa đúng pin kẹp giấy", nil},
		{"no composition rules: all lowercase letters", "tramcamxuc", nil},
		{"no composition rules: all digits not on list", "40271958316", nil},
		{"128 runes", strings.Repeat("ab", 64), nil},
		{"129 runes", strings.Repeat("ab", 64) + "c", ErrTooLong},
		{"128 multibyte runes", strings.Repeat("ẩê", 64), nil},
		{"blocklist", "password", ErrCommon},
		{"blocklist case-insensitive", "PassWord123", ErrCommon},
		{"blocklist digits", "123456789", ErrCommon},
		{"blocklist eights", "11111111", ErrCommon},
		{"blocklist keyboard", "qwertyuiop", ErrCommon},
		{"blocklist english", "iloveyou", ErrCommon},
		{"blocklist vietnamese", "matkhau123", ErrCommon},
		{"blocklist vietnamese upper", "MATKHAU123", ErrCommon},
		{"blocklist vietnamese love", "anhyeuem", ErrCommon},
		{"blocklist service name", "citizenid123", ErrCommon},
		{"short blocklisted is too short first", "matkhau", ErrTooShort},
		{"repeated letter", "aaaaaaaaaa", ErrCommon},
		{"repeated space", "          ", ErrCommon},
		{"repeated multibyte", "ễễễễễễễễ", ErrCommon},
		{"nearly repeated", "aaaaaaaab", nil},
		{"blocklist entry plus more", "password-for-citizenid", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.password)
			if !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("Check(%q): got %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

func TestBlocklist(t *testing.T) {
	list := blocklist()
	if n := len(list); n < 300 {
		t.Fatalf("got %d blocklist entries, want at least 300", n)
	}
	for _, must := range []string{"matkhau", "matkhau123", "anhyeuem", "123456789", "11111111", "iloveyou", "password", "qwertyuiop"} {
		if _, ok := list[must]; !ok {
			t.Errorf("got %q missing from the blocklist, want present", must)
		}
	}
	for entry := range list {
		if entry != strings.ToLower(strings.TrimSpace(entry)) || strings.HasPrefix(entry, "#") {
			t.Errorf("got entry %q, want trimmed lower case", entry)
		}
		if err := Check(entry); err == nil {
			t.Errorf("Check(%q): got nil, want an error for every blocklist entry", entry)
		}
	}
}
