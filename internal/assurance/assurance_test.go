package assurance

import (
	"strings"
	"testing"
)

func TestParseACRValues(t *testing.T) {
	custom, err := NewTable(map[Level]string{
		Low:         "low",
		Substantial: "substantial",
		High:        "high",
		VeryHigh:    "very-high",
	})
	if err != nil {
		t.Fatal(err)
	}
	def, err := NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", MaxACRValuesLen-len(" urn:citizenid:loa:2")) + " urn:citizenid:loa:2"
	tests := []struct {
		name  string
		table *Table
		in    string
		level Level
		ok    bool
	}{
		{"empty", def, "", 0, false},
		{"spaces only", def, "   ", 0, false},
		{"one", def, "urn:citizenid:loa:3", High, true},
		{"lowest of several wins", def, "urn:citizenid:loa:4 urn:citizenid:loa:2 urn:citizenid:loa:3", Substantial, true},
		{"unknown values ignored", def, "urn:other:gold urn:citizenid:loa:3 silver", High, true},
		{"only unknown", def, "urn:other:gold silver", 0, false},
		{"repeated spaces", def, "  urn:citizenid:loa:4   urn:citizenid:loa:3  ", High, true},
		{"tab is not a separator", def, "urn:citizenid:loa:1\turn:citizenid:loa:2", 0, false},
		{"case matters", def, "URN:CITIZENID:LOA:1", 0, false},
		{"eIDAS alias", def, "http://eidas.europa.eu/LoA/substantial", Substantial, true},
		{"eIDAS alias and own acr", def, "http://eidas.europa.eu/LoA/high urn:citizenid:loa:2", Substantial, true},
		{"custom table", custom, "very-high high", High, true},
		{"custom table ignores defaults", custom, "urn:citizenid:loa:1", 0, false},
		{"custom table keeps eIDAS aliases", custom, "http://eidas.europa.eu/LoA/low", Low, true},
		{"nil table is the default", nil, "urn:citizenid:loa:2", Substantial, true},
		{"exactly the limit", def, long, Substantial, true},
		{"one byte past the limit", def, long + " ", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			level, ok := ParseACRValues(tt.table, tt.in)
			if level != tt.level || ok != tt.ok {
				t.Errorf("ParseACRValues(%q): got %d, %v, want %d, %v", tt.in, level, ok, tt.level, tt.ok)
			}
		})
	}
}

func FuzzParseACRValues(f *testing.F) {
	for _, s := range []string{
		"",
		"urn:citizenid:loa:1",
		"urn:citizenid:loa:4 urn:citizenid:loa:2",
		"  urn:citizenid:loa:3  x ",
		"http://eidas.europa.eu/LoA/high urn:citizenid:loa:4",
		"urn:citizenid:loa:1\turn:citizenid:loa:2",
		"\xff urn:citizenid:loa:2",
		strings.Repeat("urn:citizenid:loa:2 ", 103),
	} {
		f.Add(s)
	}
	table, err := NewTable(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		level, ok := ParseACRValues(table, in)
		if !ok {
			if level != 0 {
				t.Errorf("ParseACRValues(%q): got level %d with ok false, want 0", in, level)
			}
			if len(in) > MaxACRValuesLen {
				return
			}
			for _, v := range strings.Split(in, " ") {
				if l, known := table.Level(v); known {
					t.Errorf("ParseACRValues(%q): got not ok, want ok: %q is level %d", in, v, l)
				}
			}
			return
		}
		if len(in) > MaxACRValuesLen {
			t.Errorf("ParseACRValues: got ok for %d bytes, want not ok above %d", len(in), MaxACRValuesLen)
		}
		if level < Low || level > VeryHigh {
			t.Fatalf("ParseACRValues(%q): got level %d, want 1..4", in, level)
		}
		found := false
		for _, v := range strings.Split(in, " ") {
			l, known := table.Level(v)
			if !known {
				continue
			}
			if l < level {
				t.Errorf("ParseACRValues(%q): got level %d, want the lowest, %d (%q)", in, level, l, v)
			}
			found = found || l == level
		}
		if !found {
			t.Errorf("ParseACRValues(%q): got level %d, which no listed value maps to", in, level)
		}
	})
}
