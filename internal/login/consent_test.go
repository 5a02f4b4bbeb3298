package login

import (
	"html/template"
	"testing"
)

// Only an inline image is shown: a logo fetched from elsewhere would tell
// its server who looks at the consent page.
func TestLogoURI(t *testing.T) {
	tests := []struct {
		logo string
		want template.URL
	}{
		{"", ""},
		{"https://thue.example.gov.vn/logo.png", ""},
		{"http://tracker.example/pixel.gif", ""},
		{"//tracker.example/pixel.gif", ""},
		{"data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="},
		{"data:image/jpeg;base64,/9j/4AAQ", "data:image/jpeg;base64,/9j/4AAQ"},
		{"data:image/svg+xml;base64,PHN2Zz4=", ""},
		{"data:text/html;base64,PHNjcmlwdD4=", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		if got := logoURI(tt.logo); got != tt.want {
			t.Errorf("logoURI(%q): got %q, want %q", tt.logo, got, tt.want)
		}
	}
}
