package account

import (
	"strings"
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	at := time.Date(2026, 12, 4, 7, 2, 0, 123456000, time.UTC)
	gotT, gotID, ok := parseCursor(formatCursor(at, "abc.def"))
	if !ok || !gotT.Equal(at) || gotID != "abc.def" {
		t.Errorf("round trip: got %v %q %v, want %v abc.def true", gotT, gotID, ok, at)
	}
	for _, bad := range []string{"", "1", "x.id", "-5.id", "0.id", "12.", strings.Repeat("1", 201) + ".x"} {
		if _, _, ok := parseCursor(bad); ok {
			t.Errorf("parseCursor(%q): got ok, want refused", bad)
		}
	}
}

// FuzzCursor: a cursor from a query string never panics, and one it
// accepts formats back to an equivalent cursor.
func FuzzCursor(f *testing.F) {
	f.Add("1764831720123456.abc")
	f.Add("9223372036854775807.x")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, ok := parseCursor(s)
		if !ok {
			return
		}
		at2, id2, ok2 := parseCursor(formatCursor(at, id))
		if !ok2 || !at2.Equal(at) || id2 != id {
			t.Errorf("%q: reformatted cursor differs", s)
		}
	})
}

func TestLowerFirst(t *testing.T) {
	tests := []struct{ in, want string }{{"Họ và tên", "họ và tên"}, {"Ngày sinh", "ngày sinh"}, {"Địa chỉ email", "địa chỉ email"}, {"", ""}}
	for _, tt := range tests {
		if got := lowerFirst(tt.in); got != tt.want {
			t.Errorf("lowerFirst(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
