package ui

import "testing"

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cổng dịch vụ thuế", "Cổng dịch vụ thuế"},
		{`<script>alert("x")</script>`, `<script>alert("x")</script>`}, // a CSV file is never a page
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1+1", "'+1+1"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTab", "'\tTab"},
		{"\rCR", "'\rCR"},
		{"a=b", "a=b"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CSVCell(tt.in); got != tt.want {
			t.Errorf("CSVCell(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
