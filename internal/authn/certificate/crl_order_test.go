package certificate

import (
	"math/big"
	"testing"
	"time"
)

// A CRL downloaded before the one kept never replaces it, even within the
// same second (same thisUpdate): its smaller CRL number tells. A
// background download that finishes after an explicit refresh once put an
// older list back.
func TestCRLListOlderThan(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	kept := &crlList{thisUpdate: t0, num: big.NewInt(8)}
	tests := []struct {
		name string
		l    *crlList
		want bool
	}{
		{"earlier thisUpdate", &crlList{thisUpdate: t0.Add(-time.Second), num: big.NewInt(9)}, true},
		{"same second, smaller number", &crlList{thisUpdate: t0, num: big.NewInt(7)}, true},
		{"same second, same number", &crlList{thisUpdate: t0, num: big.NewInt(8)}, false},
		{"same second, larger number", &crlList{thisUpdate: t0, num: big.NewInt(9)}, false},
		{"later thisUpdate", &crlList{thisUpdate: t0.Add(time.Hour), num: big.NewInt(1)}, false},
		{"no number", &crlList{thisUpdate: t0}, false},
	}
	for _, tt := range tests {
		if got := tt.l.olderThan(kept); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
