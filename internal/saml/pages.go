package saml

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/ui"
)

// script submits the forms of the SAML pages; the strict CSP allows no
// inline script, so it is served at /saml/autosubmit.js.
//
//go:embed autosubmit.js
var script []byte

// pages renders the SAML pages (templates/saml_*.html) through the one
// renderer, which parsed and checked them at start-up.
type pages struct {
	rd *server.Renderer
}

func newPages(rd *server.Renderer) (*pages, error) {
	if rd == nil {
		return nil, errors.New("saml pages: a renderer is required")
	}
	if err := rd.Need("saml_post", "saml_logout"); err != nil {
		return nil, fmt.Errorf("saml pages: %w", err)
	}
	return &pages{rd: rd}, nil
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
func (pg *pages) render(r *http.Request, page string, title ui.ID, data any) ([]byte, error) {
	return pg.rd.Page(r, page, server.Locale(r, nil), string(title), data)
}

// writePost answers with the auto-submitting form of a SAML message. The
// bindings ask that it not be cached (saml-bindings §3.5.5.1).
func (pg *pages) writePost(w http.ResponseWriter, r *http.Request, f postForm) {
	b, err := pg.render(r, "saml_post", ui.SAMLPostTitle, f)
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
	w.Write(script)
}
