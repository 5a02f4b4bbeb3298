package server

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/ui"
)

// Page is what every template receives: the view model of one page plus
// what the layout needs.
type Page struct {
	Lang string
	// T holds the messages of Lang; templates read {{.T.key}}, and the
	// renderer checked at start-up that every such key exists in every
	// language.
	T         map[string]string
	Title     string
	RequestID string
	// User is the name of the citizen signed in in this browser, shown
	// in the header with a log-out button; "" when nobody is (and on the
	// console, whose pages show the administrator themselves).
	User string
	// Languages feeds the language switcher: every language of the
	// catalogue, named in itself.
	Languages []Language
	Data      any
}

// Language is one choice of the language switcher.
type Language struct {
	Code, Name string
	Current    bool
}

// Renderer renders every HTML page of CitizenID — the citizen's, the
// console's and SAML's — from templates parsed and checked against the
// message catalogue once at start-up.
type Renderer struct {
	pages map[string]*template.Template
	cat   *ui.Catalogue
	log   *slog.Logger
	langs map[string][]Language // per page language

	mu      sync.Mutex
	unknown map[string]bool // message keys already logged as unknown
	user    func(*http.Request) string
}

// SetUser sets how a page learns the name of the citizen signed in in the
// request's browser (Page.User); the login engine provides it once built.
func (rd *Renderer) SetUser(f func(*http.Request) string) { rd.user = f }

// maxUnknown bounds the keys remembered as logged; beyond it an unknown
// key is still shown as itself but no longer logged.
const maxUnknown = 1000

// RendererOptions configures NewRendererWith.
type RendererOptions struct {
	// Templates holds layout.html and the pages, see NewRendererWith.
	Templates fs.FS
	// Catalogue holds the messages; ui.Load(ui.Shipped()) when nil.
	Catalogue *ui.Catalogue
	Log       *slog.Logger
}

// NewRenderer parses every page in fsys with the shipped message
// catalogue; see NewRendererWith.
func NewRenderer(fsys fs.FS, log *slog.Logger) (*Renderer, error) {
	return NewRendererWith(RendererOptions{Templates: fsys, Log: log})
}

// NewRendererWith parses every page of o.Templates: each <name>.html with
// layout.html, and a page named <prefix>_<name>.html also with
// <prefix>_base.html when that exists (the console's admin_base.html).
// Then it checks that every message key a template names exists in
// every language of the catalogue, and that every language CitizenID
// negotiates (Locales) has a catalogue. A page that does not parse or a
// missing key fails the start, naming the page, key and language, not a
// request.
func NewRendererWith(o RendererOptions) (*Renderer, error) {
	cat := o.Catalogue
	if cat == nil {
		var err error
		if cat, err = ui.Load(ui.Shipped()); err != nil {
			return nil, err
		}
	}
	names, err := fs.Glob(o.Templates, "*.html")
	if err != nil {
		return nil, err
	}
	rd := &Renderer{pages: map[string]*template.Template{}, cat: cat, log: o.Log, unknown: map[string]bool{}}
	bases := map[string]bool{}
	for _, n := range names {
		if strings.HasSuffix(n, "_base.html") {
			bases[n] = true
		}
	}
	used := map[string][]string{} // key → templates
	var errs []error
	for _, n := range names {
		if n == "layout.html" || bases[n] {
			continue
		}
		files := []string{"layout.html"}
		if i := strings.IndexByte(n, '_'); i > 0 && bases[n[:i]+"_base.html"] {
			files = append(files, n[:i]+"_base.html")
		}
		t, err := template.New("layout.html").Funcs(template.FuncMap{"t": rd.T}).ParseFS(o.Templates, append(files, n)...)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		keys, err := ui.TemplateKeys(t)
		errs = append(errs, err)
		for k, in := range keys {
			used[k] = append(used[k], n+" ("+strings.Join(in, ", ")+")")
		}
		rd.pages[strings.TrimSuffix(n, ".html")] = t
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		errs = append(errs, cat.Require([]string{k}, "template "+strings.Join(used[k], ", ")))
	}
	for _, l := range Locales {
		if !cat.Has(l) {
			errs = append(errs, fmt.Errorf("catalogue: no messages for %s, a language the server offers", l))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := rd.Need("error", "login", "logged_out", "home"); err != nil {
		return nil, err
	}
	rd.langs = map[string][]Language{}
	for _, cur := range cat.Locales() {
		for _, l := range cat.Locales() {
			rd.langs[cur] = append(rd.langs[cur], Language{Code: l, Name: cat.Text(l, ui.LanguageName), Current: l == cur})
		}
	}
	return rd, nil
}

// Need reports an error naming each page that is missing, so a feature
// fails the start when its templates are not there.
func (rd *Renderer) Need(pages ...string) error {
	var errs []error
	for _, p := range pages {
		if rd.pages[p] == nil {
			errs = append(errs, fmt.Errorf("template %s.html is missing", p))
		}
	}
	return errors.Join(errs...)
}

// Page renders page into a byte slice, for callers that write it
// themselves (SAML's forms). titleKey names the page's title message;
// lang falls back to the default language when the catalogue lacks it.
func (rd *Renderer) Page(r *http.Request, page, lang, titleKey string, data any) ([]byte, error) {
	t, ok := rd.pages[page]
	if !ok {
		return nil, fmt.Errorf("unknown page %s", page)
	}
	if !rd.cat.Has(lang) {
		lang = ui.DefaultLocale
	}
	p := Page{Lang: lang, T: rd.cat.Messages(lang), RequestID: RequestID(r.Context()), Languages: rd.langs[lang], Data: data}
	if titleKey != "" {
		p.Title = rd.T(lang, titleKey)
	}
	if rd.user != nil && !strings.HasPrefix(page, "admin_") {
		p.User = rd.user(r)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// Render writes page with status. The page is rendered into a buffer
// first, so a template error never sends half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, page, lang, titleKey string, data any) {
	b, err := rd.Page(r, page, lang, titleKey, data)
	if err != nil {
		rd.log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// ErrorPage is the view model of error.html.
type ErrorPage struct {
	Message string
}

// Error renders the error page with a catalogue message key. The citizen
// sees the message and the request ID, never the cause; an unknown key
// is logged and shows the generic message.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int, lang, msgKey string) {
	if !rd.cat.Has(lang) {
		lang = Locale(r, nil)
	}
	msg, ok := rd.cat.Lookup(lang, msgKey)
	if !ok {
		rd.unknownKey(lang, msgKey)
		msg = rd.cat.Text(lang, ui.ErrGeneric)
	}
	if status == http.StatusServiceUnavailable {
		// A dependency is failing: tell browsers and proxies when to try again.
		w.Header().Set("Retry-After", "5")
	}
	rd.Render(w, r, status, "error", lang, string(ui.ErrTitle), ErrorPage{Message: msg})
}

// Gone answers a pending step that could not be loaded (a login, an
// authorization or SAML request, a certificate ticket): the expiry page
// with status when it is not there (session.ErrNotFound); when the store
// failed instead, which is no expiry and not the citizen's doing, it
// logs err with the message what and answers 503.
func (rd *Renderer) Gone(w http.ResponseWriter, r *http.Request, status int, lang, what string, err error) {
	if errors.Is(err, session.ErrNotFound) {
		rd.Error(w, r, status, lang, string(ui.ErrTxnExpired))
		return
	}
	rd.log.ErrorContext(r.Context(), what, "err", err)
	rd.Error(w, r, http.StatusServiceUnavailable, lang, string(ui.ErrGeneric))
}

// T returns the message key in lang (the default language when the
// catalogue lacks lang). Prefer Text with a typed ID; T serves keys held
// in strings. A key no language has is logged once and returned as it
// is, so a page never silently shows nothing. Templates call it as
// {{t $.Lang key}} for a key they compute.
func (rd *Renderer) T(lang, key string) string {
	if s, ok := rd.cat.Lookup(lang, key); ok {
		return s
	}
	rd.unknownKey(lang, key)
	return key
}

// Lookup returns the message key in lang and whether it exists, for a
// key that comes from a request and must not be shown when unknown.
func (rd *Renderer) Lookup(lang, key string) (string, bool) {
	return rd.cat.Lookup(lang, key)
}

// Text returns the message id in lang; the catalogue's start-up check
// guarantees it exists.
func (rd *Renderer) Text(lang string, id ui.ID) string {
	return rd.cat.Text(lang, id)
}

// Duration says d in words in lang, rounded up ("45 giây", "3 minutes");
// see ui.Catalogue.Duration.
func (rd *Renderer) Duration(lang string, d time.Duration) string {
	return rd.cat.Duration(lang, d)
}

func (rd *Renderer) unknownKey(lang, key string) {
	rd.mu.Lock()
	first := !rd.unknown[key] && len(rd.unknown) < maxUnknown
	if first {
		rd.unknown[key] = true
	}
	rd.mu.Unlock()
	if first {
		rd.log.Error("unknown message key: add it to every locale under internal/ui/locales", "key", key, "lang", lang)
	}
}
