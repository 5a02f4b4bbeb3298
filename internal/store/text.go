package store

import (
	"strings"
	"unicode/utf8"
)

// StorableText reports whether s can be stored, and so matched, in every
// backend: valid UTF-8 without a NUL byte (PostgreSQL's text holds
// neither). Nothing stored equals a key that is not, so a lookup by one
// finds nothing.
func StorableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Storable returns s with each invalid UTF-8 sequence and each NUL byte
// replaced by U+FFFD: text recorded as it came from outside (an audit
// event's client ID) that must be kept, not refused.
func Storable(s string) string {
	if StorableText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
