package audit

import "testing"

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{
		"001099012345": "0010******45",
		"1234567":      "****",
		"":             "****",
	} {
		if got := MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q): got %q, want %q", in, got, want)
		}
	}
}
