package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/ui"
	"github.com/citizenid/citizenid/templates"
)

// catalogueFS is the shipped catalogue with the files of extra added or
// replaced.
func catalogueFS(t *testing.T, extra fs.FS) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, src := range []fs.FS{ui.Shipped(), extra} {
		if src == nil {
			continue
		}
		err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(src, p)
			m[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// A new language is a directory of files: the fixture xx (testdata/
// locales/xx) loads through the same loader as vi and en, passes the
// same checks, and renders every kind of page with no Go change.
func TestThirdLocaleNeedsNoGo(t *testing.T) {
	xx, err := fs.Sub(os.DirFS("testdata"), "locales")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ui.Load(catalogueFS(t, xx))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cat.Locales(), " "); got != "vi en xx" {
		t.Fatalf("locales: got %q, want vi en xx", got)
	}
	rd, err := NewRendererWith(RendererOptions{Templates: templates.FS, Catalogue: cat, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	rd.Render(rec, r, http.StatusOK, "home", "xx", "home_title", nil)
	body := rec.Body.String()
	for _, want := range []string{`<html lang="xx">`, "<title>Xx Citizen identity service · Xx CitizenID</title>",
		"Xx Log in once to use the online public services.", `<option value="xx" lang="xx" selected>Xxish</option>`,
		`<option value="vi" lang="vi">Tiếng Việt</option>`, `<option value="en" lang="en">English</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("home in xx lacks %q:\n%s", want, body)
		}
	}
	rec = httptest.NewRecorder()
	rd.Error(rec, r, http.StatusNotFound, "xx", "err_not_found")
	if body := rec.Body.String(); rec.Code != http.StatusNotFound || !strings.Contains(body, "Xx Page not found.") {
		t.Errorf("error page in xx: got %d\n%s", rec.Code, body)
	}
	b, err := rd.Page(r, "saml_post", "xx", "saml_post_title", map[string]any{"URL": "https://sp.example/acs", "Field": "SAMLResponse"})
	if err != nil || !strings.Contains(string(b), "<h1>Xx Returning to the service</h1>") {
		t.Errorf("SAML page in xx: %v\n%s", err, b)
	}
	if got, want := rd.Duration("xx", 90e9), "Xx 2 minutes"; got != want {
		t.Errorf("Duration: got %q, want %q", got, want)
	}
	if got, want := rd.Text("xx", ui.ErrGeneric), "Xx "+rd.Text("en", ui.ErrGeneric); got != want {
		t.Errorf("Text: got %q, want %q", got, want)
	}
}

// The start-up check: a key a template uses that a locale lacks stops
// the renderer, so `citizenid serve` refuses to start, naming the key,
// the locale and the page.
func TestMissingKeyFailsStart(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if _, err := NewRenderer(templates.FS, log); err != nil {
		t.Fatalf("shipped templates and catalogue: %v", err)
	}

	// A template names a key no locale has.
	pages := fstest.MapFS{}
	for p, f := range testPages {
		pages[p] = f
	}
	pages["home.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.T.home_title}} {{.T.home_tittle}}{{end}}`)}
	_, err := NewRenderer(pages, log)
	for _, want := range []string{"locale vi lacks key home_tittle, used by template home.html (content)", "locale en lacks key home_tittle"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("template key: got %v, want it to say %q", err, want)
		}
	}

	// A shipped template's key is missing from one locale's file.
	en, err := fs.ReadFile(ui.Shipped(), "en/common.json")
	if err != nil {
		t.Fatal(err)
	}
	cut := regexpLine("footer").ReplaceAll(en, nil)
	if bytes.Equal(cut, en) {
		t.Fatal("en/common.json has no footer line")
	}
	_, err = ui.Load(catalogueFS(t, fstest.MapFS{"en/common.json": {Data: cut}}))
	if err == nil || !strings.Contains(err.Error(), "locale en lacks key footer") {
		t.Errorf("locale file: got %v, want it to name footer and en", err)
	}

	// A computed key must go through t, which shows an unknown key; an
	// index into the catalogue would show nothing.
	pages["home.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{index .T .Data}}{{end}}`)}
	if _, err := NewRenderer(pages, log); err == nil || !strings.Contains(err.Error(), "indexes the catalogue") {
		t.Errorf("index .T: got %v, want a refusal", err)
	}

	// A required page is missing.
	delete(pages, "home.html")
	if _, err := NewRenderer(pages, log); err == nil || !strings.Contains(err.Error(), "home.html is missing") {
		t.Errorf("missing page: got %v", err)
	}
}

// A key only known at run time that no locale has is logged once and
// shown as itself, never as nothing; the error page shows the generic
// message instead.
func TestUnknownKeyAtRunTime(t *testing.T) {
	var logged bytes.Buffer
	pages := fstest.MapFS{}
	for p, f := range testPages {
		pages[p] = f
	}
	pages["home.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}[{{t $.Lang .Data}}]{{end}}`)}
	rd, err := NewRenderer(pages, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := rd.T("en", "no_such_key"); got != "no_such_key" {
			t.Errorf("T: got %q, want the key", got)
		}
	}
	if n := strings.Count(logged.String(), "no_such_key"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logged.String())
	}
	r := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	rd.Render(rec, r, http.StatusOK, "home", "en", "home_title", "method_carrier_pigeon")
	if !strings.Contains(rec.Body.String(), "[method_carrier_pigeon]") {
		t.Errorf("computed unknown key: got %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	rd.Render(rec, r, http.StatusOK, "home", "en", "home_title", "login_title")
	if !strings.Contains(rec.Body.String(), "[Log in]") {
		t.Errorf("computed key: got %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	rd.Error(rec, r, http.StatusBadRequest, "en", "err_no_such_thing")
	if want := rd.Text("en", ui.ErrGeneric); !strings.Contains(rec.Body.String(), want) {
		t.Errorf("Error with an unknown key: got %s, want %q", rec.Body.String(), want)
	}
	if got, ok := rd.Lookup("en", "no_such_key"); ok || got != "" {
		t.Errorf("Lookup: got %q, %v", got, ok)
	}
}

// regexpLine matches the line of key in a locale file.
func regexpLine(key string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*"` + key + `": .*\n`)
}

// A pending step that is not there is expired; one the store could not
// read is not: 503 with Retry-After, and the cause is logged, not shown.
func TestGoneTellsExpiryFromAStoreFailure(t *testing.T) {
	var logged bytes.Buffer
	rd, err := NewRenderer(templates.FS, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/login/x", nil)
	for _, c := range []struct {
		err    error
		status int
		msg    ui.ID
	}{
		{session.ErrNotFound, http.StatusNotFound, ui.ErrTxnExpired},
		{fmt.Errorf("load: %w", session.ErrNotFound), http.StatusNotFound, ui.ErrTxnExpired},
		{errors.New("get lt: dial tcp 127.0.0.1:6379: connection refused"), http.StatusServiceUnavailable, ui.ErrGeneric},
	} {
		logged.Reset()
		rec := httptest.NewRecorder()
		rd.Gone(rec, r, http.StatusNotFound, "en", "load login transaction", c.err)
		body := rec.Body.String()
		if rec.Code != c.status || !strings.Contains(body, rd.Text("en", c.msg)) {
			t.Errorf("%v: got %d, want %d and %q", c.err, rec.Code, c.status, rd.Text("en", c.msg))
		}
		failed := c.status == http.StatusServiceUnavailable
		if failed != (rec.Header().Get("Retry-After") != "") || failed != strings.Contains(logged.String(), "connection refused") {
			t.Errorf("%v: Retry-After %q, logged %q", c.err, rec.Header().Get("Retry-After"), logged.String())
		}
		if strings.Contains(body, "connection refused") {
			t.Errorf("%v: the cause is shown to the citizen", c.err)
		}
	}
}
