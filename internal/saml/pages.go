package saml

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/citizenid/citizenid/internal/server"
)

// files holds the SAML pages (rendered in the shared layout.html) and the
// script that submits their forms.
//
//go:embed templates/*.html autosubmit.js
var files embed.FS

// pages renders the SAML pages: parsed at start-up, so a broken page
// fails the start, not a request.
type pages struct {
	tmpl   map[string]*template.Template
	cat    map[string]map[string]string
	script []byte
}

func newPages(layout fs.FS) (*pages, error) {
	pg := &pages{tmpl: map[string]*template.Template{}, cat: map[string]map[string]string{}}
	for _, name := range []string{"saml_post", "saml_logout"} {
		t, err := template.New("layout.html").ParseFS(layout, "layout.html")
		if err != nil {
			return nil, fmt.Errorf("saml pages: %w", err)
		}
		if t, err = t.ParseFS(files, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("saml pages: %w", err)
		}
		pg.tmpl[name] = t
	}
	for _, l := range server.Locales {
		pg.cat[l] = server.Messages(l)
	}
	var err error
	if pg.script, err = files.ReadFile("autosubmit.js"); err != nil {
		return nil, err
	}
	return pg, nil
}

// postForm is the view model of saml_post.html: a SAML message the
// browser posts to a service provider (HTTP-POST binding).
type postForm struct {
	URL        string
	Field      string // SAMLResponse or SAMLRequest
	Value      string
	RelayState string
	Service    string
	Logout     bool
}

// render renders page in the request's language.
func (pg *pages) render(r *http.Request, page, titleKey string, data any) ([]byte, error) {
	lang := server.Locale(r, nil)
	var buf bytes.Buffer
	err := pg.tmpl[page].Execute(&buf, server.Page{
		Lang: lang, T: pg.cat[lang], Title: pg.cat[lang][titleKey], RequestID: server.RequestID(r.Context()), Data: data,
	})
	return buf.Bytes(), err
}

// writePost answers with the auto-submitting form of a SAML message. The
// bindings ask that it not be cached (saml-bindings §3.5.5.1).
func (pg *pages) writePost(w http.ResponseWriter, r *http.Request, f postForm) {
	b, err := pg.render(r, "saml_post", "saml_post_title", f)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Pragma", "no-cache")
	w.Write(b)
}

func (pg *pages) serveScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(pg.script)
}
