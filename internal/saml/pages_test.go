package saml

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/templates"
)

// The SAML pages come from templates/ through the one renderer, in the
// request's language, with the script the CSP allows.
func TestPages(t *testing.T) {
	rd, err := server.NewRenderer(templates.FS, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := newPages(rd)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"vi": {rd.Text("vi", "saml_post_title"), rd.T("vi", "saml_continue"), `<html lang="vi">`},
		"en": {rd.Text("en", "saml_post_title"), rd.T("en", "saml_continue"), `<html lang="en">`},
	} {
		r := httptest.NewRequest("GET", "/saml/sso", nil)
		r.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		pg.writePost(rec, r, postForm{URL: "https://sp.example/acs", Field: "SAMLResponse", Value: "PHg+", Service: "Cổng <thuế>"})
		body := rec.Body.String()
		for _, s := range append(want, `src="/saml/autosubmit.js"`, `value="PHg&#43;"`, "Cổng &lt;thuế&gt;") {
			if !strings.Contains(body, s) {
				t.Errorf("%s: page lacks %q:\n%s", lang, s, body)
			}
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache, no-store" {
			t.Errorf("%s: Cache-Control %q, want no-cache, no-store", lang, got)
		}
	}
}
