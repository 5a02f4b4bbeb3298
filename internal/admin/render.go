package admin

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/ui"
)

// renderer is the console's view of the one page renderer: it renders
// admin_*.html pages (with admin_base.html, the console's navigation and
// messages) in the administrator's language. Pages use no template
// functions beyond the renderer's: view models carry what they show,
// formatted.
type renderer struct {
	*server.Renderer
}

// pageNames are the pages the console renders; each must exist.
var pageNames = []string{
	"admin_dashboard", "admin_clients", "admin_client", "admin_secret", "admin_keys", "admin_citizens",
	"admin_citizen", "admin_audit", "admin_audit_event", "admin_admins", "admin_confirm", "admin_error", "admin_sps", "admin_sp",
	"admin_ledger",
}

// newRenderer checks that rd has every console page; a missing one fails
// the start.
func newRenderer(rd *server.Renderer) (*renderer, error) {
	if rd == nil {
		return nil, errors.New("admin: a renderer is required")
	}
	if err := rd.Need(pageNames...); err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &renderer{rd}, nil
}

func (rd *renderer) t(lang, key string) string { return rd.T(lang, key) }

// render writes a page in the request's language; it is rendered into a
// buffer first.
func (rd *renderer) render(w http.ResponseWriter, r *http.Request, status int, page, titleKey string, data any) {
	rd.Render(w, r, status, page, server.Locale(r, nil), titleKey, data)
}

// errorView is the view model of admin_error.html.
type errorView struct {
	*chrome
	Message string
}

// error renders the console's error page; with c the navigation shows.
func (rd *renderer) error(w http.ResponseWriter, r *http.Request, status int, msgKey string, c *chrome) {
	lang := server.Locale(r, nil)
	msg := rd.t(lang, msgKey) // an unknown key is logged and returned as is
	if msg == msgKey {
		msg = rd.Text(lang, ui.ErrGeneric)
	}
	if c == nil {
		c = &chrome{Back: "/admin"}
	}
	rd.render(w, r, status, "admin_error", "admin_err_title", errorView{chrome: c, Message: msg})
}

// chrome is what every console page shows around its content.
type chrome struct {
	Nav []navLink
	Who string
	// WhoRoles are the administrator's roles. The name is the chrome's
	// own: a page's view that embeds chrome may have a Roles field of its
	// own (a viewed citizen's) without hiding the administrator's.
	WhoRoles string
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
	href  string
	label ui.ID
	p     perm
}{
	{"/admin", ui.AdminNavDashboard, permDashboard},
	{"/admin/clients", ui.AdminNavClients, permRPRead},
	{"/admin/sps", ui.AdminNavSPS, permRPRead},
	{"/admin/keys", ui.AdminNavKeys, permKeysRead},
	{"/admin/citizens", ui.AdminNavCitizens, permCitizensRead},
	{"/admin/audit", ui.AdminNavAudit, permAuditRead},
	{"/admin/admins", ui.AdminNavAdmins, permAdmins},
}

// chrome builds the page frame for act; messages come from the query
// (?done=, ?err=) and only as catalogue keys of the console.
func (a *Admin) chrome(r *http.Request, act *actor) *chrome {
	lang := server.Locale(r, nil)
	c := &chrome{Who: act.name, WhoRoles: joinRoles(act.roles), Back: "/admin"}
	if strings.HasPrefix(r.URL.Path, "/admin") && r.Method == http.MethodGet {
		c.Back = r.URL.Path
	}
	for _, n := range navItems {
		if !act.can(n.p) {
			continue
		}
		cur := r.URL.Path == n.href || (n.href != "/admin" && strings.HasPrefix(r.URL.Path, n.href+"/"))
		c.Nav = append(c.Nav, navLink{Href: n.href, Label: a.rd.Text(lang, n.label), Current: cur})
	}
	q := r.URL.Query()
	// The keys come from the URL: an unknown one shows nothing and is not
	// logged, so a crafted link can neither inject text nor fill the log.
	if k := q.Get("done"); strings.HasPrefix(k, "admin_msg_") {
		c.Notice, _ = a.rd.Lookup(lang, k)
	}
	if k := q.Get("err"); strings.HasPrefix(k, "admin_err_") {
		c.Problem, _ = a.rd.Lookup(lang, k)
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

// timeLayout is how the console writes a time: in the operator's zone,
// with its offset, so a time read aloud or copied is never ambiguous.
const timeLayout = "2006-01-02 15:04:05 -07:00"

// fmtTime writes t in the console's time zone (admin.time_zone), with
// the offset: "2026-12-04 21:05:22 +07:00".
func (a *Admin) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.zone()).Format(timeLayout)
}

// zone is the console's time zone; the citizens' (ui.Zone) when the
// options name none.
func (a *Admin) zone() *time.Location {
	if a.o.TimeZone != nil {
		return a.o.TimeZone
	}
	return ui.Zone
}

// utcTime writes t for the audit log's details: stored data, in UTC.
func utcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

//go:embed admin.css
var css []byte

func serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(css)
}
