package admin

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/server"
)

// renderer renders the console's pages: layout.html, admin_base.html (the
// console's navigation and messages) and one admin_*.html page each, all
// parsed at start-up. Pages use no template functions: view models carry
// what they show, formatted.
type renderer struct {
	pages map[string]*template.Template
	cat   map[string]map[string]string
	log   *slog.Logger
}

// pageNames are the pages the console renders; each must exist.
var pageNames = []string{
	"admin_dashboard", "admin_clients", "admin_client", "admin_secret", "admin_keys", "admin_citizens",
	"admin_citizen", "admin_audit", "admin_audit_event", "admin_admins", "admin_confirm", "admin_error", "admin_sps", "admin_sp",
}

func newRenderer(fsys fs.FS, log *slog.Logger) (*renderer, error) {
	rd := &renderer{pages: map[string]*template.Template{}, cat: map[string]map[string]string{}, log: log}
	for _, l := range server.Locales {
		rd.cat[l] = server.Messages(l)
	}
	for _, n := range pageNames {
		t, err := template.New("layout.html").ParseFS(fsys, "layout.html", "admin_base.html", n+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: parse %s: %w", n, err)
		}
		rd.pages[n] = t
	}
	return rd, nil
}

func (rd *renderer) t(lang, key string) string {
	if m, ok := rd.cat[lang]; ok {
		return m[key]
	}
	return rd.cat[server.Locales[0]][key]
}

// render writes a page; it is rendered into a buffer first.
func (rd *renderer) render(w http.ResponseWriter, r *http.Request, status int, page, titleKey string, data any) {
	lang := server.Locale(r, nil)
	p := server.Page{Lang: lang, T: rd.cat[lang], Title: rd.t(lang, titleKey), RequestID: server.RequestID(r.Context()), Data: data}
	var buf bytes.Buffer
	if err := rd.pages[page].Execute(&buf, p); err != nil {
		rd.log.ErrorContext(r.Context(), "render admin page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorView is the view model of admin_error.html.
type errorView struct {
	*chrome
	Message string
}

// error renders the console's error page; with c the navigation shows.
func (rd *renderer) error(w http.ResponseWriter, r *http.Request, status int, msgKey string, c *chrome) {
	lang := server.Locale(r, nil)
	msg := rd.t(lang, msgKey)
	if msg == "" {
		msg = rd.t(lang, "err_generic")
	}
	if c == nil {
		c = &chrome{Back: "/admin"}
	}
	rd.render(w, r, status, "admin_error", "admin_err_title", errorView{chrome: c, Message: msg})
}

// chrome is what every console page shows around its content.
type chrome struct {
	Nav   []navLink
	Who   string
	Roles string
	// Notice and Problem are translated messages (?done= and ?err= keys).
	Notice  string
	Problem string
	// Confirmed: the administrator just authenticated again for a
	// sensitive action and should submit it again.
	Confirmed bool
	Back      string // where the language switcher returns
}

type navLink struct {
	Href, Label string
	Current     bool
}

var navItems = []struct {
	href, label string
	p           perm
}{
	{"/admin", "admin_nav_dashboard", permDashboard},
	{"/admin/clients", "admin_nav_clients", permRPRead},
	{"/admin/sps", "admin_nav_sps", permRPRead},
	{"/admin/keys", "admin_nav_keys", permKeysRead},
	{"/admin/citizens", "admin_nav_citizens", permCitizensRead},
	{"/admin/audit", "admin_nav_audit", permAuditRead},
	{"/admin/admins", "admin_nav_admins", permAdmins},
}

// chrome builds the page frame for act; messages come from the query
// (?done=, ?err=) and only as catalogue keys of the console.
func (a *Admin) chrome(r *http.Request, act *actor) *chrome {
	lang := server.Locale(r, nil)
	c := &chrome{Who: act.name, Roles: joinRoles(act.roles), Back: "/admin"}
	if strings.HasPrefix(r.URL.Path, "/admin") && r.Method == http.MethodGet {
		c.Back = r.URL.Path
	}
	for _, n := range navItems {
		if !act.can(n.p) {
			continue
		}
		cur := r.URL.Path == n.href || (n.href != "/admin" && strings.HasPrefix(r.URL.Path, n.href+"/"))
		c.Nav = append(c.Nav, navLink{Href: n.href, Label: a.rd.t(lang, n.label), Current: cur})
	}
	q := r.URL.Query()
	if k := q.Get("done"); strings.HasPrefix(k, "admin_msg_") {
		c.Notice = a.rd.t(lang, k)
	}
	if k := q.Get("err"); strings.HasPrefix(k, "admin_err_") {
		c.Problem = a.rd.t(lang, k)
	}
	c.Confirmed = q.Get("confirmed") == "1"
	return c
}

// confirmView is the view model of admin_confirm.html: a destructive
// action asks once more, without JavaScript, by posting the same form
// again with confirm=yes.
type confirmView struct {
	*chrome
	Question string
	Action   string
	Fields   []field
	Cancel   string
	Danger   bool
}

type field struct{ Name, Value string }

// confirmed reports whether the form carries confirm=yes; otherwise it
// shows the confirmation page for the same action and fields.
func (a *Admin) confirmed(w http.ResponseWriter, r *http.Request, act *actor, questionKey, subject, cancel string) bool {
	if r.PostForm.Get("confirm") == "yes" {
		return true
	}
	question := a.rd.t(act.lang, questionKey)
	if strings.Contains(question, "%s") {
		question = fmt.Sprintf(question, subject)
	}
	v := confirmView{chrome: a.chrome(r, act), Action: r.URL.Path, Cancel: cancel, Danger: true, Question: question}
	for k, vals := range r.PostForm {
		if k == "confirm" {
			continue
		}
		for _, val := range vals {
			v.Fields = append(v.Fields, field{k, val})
		}
	}
	a.rd.render(w, r, http.StatusOK, "admin_confirm", "admin_confirm_title", v)
	return false
}

// Times in the console are UTC, to the minute or second.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// fmtAge says how long ago t was, roughly.
func fmtAge(lang string, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	unit := map[string][3]string{"vi": {"ngày", "giờ", "phút"}, "en": {"days", "hours", "minutes"}}[lang]
	if lang == "en" && d >= time.Hour && d < 2*time.Hour {
		unit[1] = "hour"
	}
	if unit[0] == "" {
		unit = [3]string{"ngày", "giờ", "phút"}
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d %s", int(d.Hours()/24), unit[0])
	case d >= time.Hour:
		return fmt.Sprintf("%d %s", int(d.Hours()), unit[1])
	default:
		return fmt.Sprintf("%d %s", int(d.Minutes()), unit[2])
	}
}

//go:embed admin.css
var css []byte

func serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(css)
}
