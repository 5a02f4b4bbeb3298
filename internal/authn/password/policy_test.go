package password

import (
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn/frequency"

	"github.com/citizenid/citizenid/internal/ui"
)

func TestPolicy(t *testing.T) {
	who := Personal{Number: "001090000123", Name: "Nguyễn Thị Đào", Birthdate: "1990-05-17"}
	tests := []struct {
		pw   string
		min  int
		want ui.ID
	}{
		{"một câu mật khẩu đủ dài 2026", 0, ""},
		{"correct horse battery staple", 0, ""},
		{"short", 0, ui.PwErrShort},
		{"eightch!", 12, ui.PwErrShort},
		{strings.Repeat("ab", MaxLength), 0, ui.PwErrLong},
		{"password", 0, ui.PwErrCommon},
		{"aaaaaaaaaaaa", 0, ui.PwErrCommon},
		{"qwertyuiop", 0, ui.PwErrCommon},
		{"iloveyou123", 0, ui.PwErrCommon},
		// On zxcvbn's lists (words, names), not on ours.
		{"mountainsunset", 0, ui.PwErrCommon},
		{"jenniferjohnson", 0, ui.PwErrCommon},
		{"daonguyen1990", 0, ui.PwErrPersonal},
		{"Đào Nguyễn 99", 0, ui.PwErrPersonal},
		{"tôi là 001090000123", 0, ui.PwErrPersonal},
		{"sn19900517", 0, ui.PwErrPersonal},
	}
	if frequency.FrequencyLists != nil {
		t.Error("zxcvbn's word lists are still held after its dictionaries were built")
	}
	for _, tt := range tests {
		var got ui.ID
		if p := (Policy{MinLength: tt.min}).Check(tt.pw, who); p != nil {
			got = p.Msg
		}
		if got != tt.want {
			t.Errorf("%q (min %d): got %q, want %q", tt.pw, tt.min, got, tt.want)
		}
	}
}
