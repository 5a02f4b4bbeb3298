package store

import "testing"

func TestStorable(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"portal-a", "portal-a", true},
		{"Nguyễn Văn A", "Nguyễn Văn A", true},
		{"", "", true},
		{"a\x00b", "a\uFFFDb", false},
		{"a\xffb", "a\uFFFDb", false},
		{"\x00\xc3", "\uFFFD\uFFFD", false},
	} {
		if ok := StorableText(tc.in); ok != tc.ok {
			t.Errorf("StorableText(%q) = %v, want %v", tc.in, ok, tc.ok)
		}
		if got := Storable(tc.in); got != tc.want || !StorableText(got) {
			t.Errorf("Storable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
