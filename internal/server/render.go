package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
)

// Page is what every template receives: the view model of one page plus
// what the layout needs.
type Page struct {
	Lang      string
	T         map[string]string
	Title     string
	RequestID string
	Data      any
}

// Renderer renders pages parsed once at start-up.
type Renderer struct {
	pages map[string]*template.Template
	log   *slog.Logger
	cat   map[string]map[string]string
}

// NewRenderer parses every page in fsys with layout.html; a page that fails
// to parse fails the start, not a request.
func NewRenderer(fsys fs.FS, log *slog.Logger) (*Renderer, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, log: log, cat: map[string]map[string]string{}}
	for _, l := range Locales {
		r.cat[l] = Messages(l)
	}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(fsys, "layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		r.pages[strings.TrimSuffix(n, ".html")] = t
	}
	for _, required := range []string{"error", "login", "logged_out", "home"} {
		if r.pages[required] == nil {
			return nil, fmt.Errorf("template %s.html is missing", required)
		}
	}
	return r, nil
}

// Render writes page with status. The page is rendered into a buffer
// first, so a template error never sends half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, page, lang, titleKey string, data any) {
	t, ok := rd.pages[page]
	if !ok {
		rd.log.ErrorContext(r.Context(), "unknown page", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if _, ok := rd.cat[lang]; !ok {
		lang = Locales[0]
	}
	p := Page{Lang: lang, T: rd.cat[lang], Title: rd.cat[lang][titleKey], RequestID: RequestID(r.Context()), Data: data}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		rd.log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ErrorPage is the view model of error.html.
type ErrorPage struct {
	Message string
}

// Error renders the error page with a catalogue message key. The citizen
// sees the message and the request ID, never the cause.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int, lang, msgKey string) {
	if _, ok := rd.cat[lang]; !ok {
		lang = Locale(r, nil)
	}
	msg := rd.cat[lang][msgKey]
	if msg == "" {
		msg = rd.cat[lang]["err_generic"]
	}
	rd.Render(w, r, status, "error", lang, "err_title", ErrorPage{Message: msg})
}

// T returns one message in a locale.
func (rd *Renderer) T(lang, key string) string {
	if m, ok := rd.cat[lang]; ok {
		return m[key]
	}
	return rd.cat[Locales[0]][key]
}
