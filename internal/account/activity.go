package account

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/ui"
)

// LedgerReader is the slice of the data-release ledger the citizen's pages
// read: only their own entries.
type LedgerReader interface {
	ListLedger(ctx context.Context, citizenID string, f store.LedgerFilter) ([]store.LedgerEntry, error)
	LedgerPortalsOf(ctx context.Context, citizenID string) ([]store.LedgerPortal, error)
}

const (
	activityPath = "/account/activity"
	// activityPage is how many entries one page lists.
	activityPage = 50
)

// activityView is the view model of account_activity.html.
type activityView struct {
	Entries []entryView
	Portals []portalOption
	Month   string // YYYY-MM of the month filter, or ""
	Error   string
	// Older is the link to the next (older) page, or "" on the last.
	Older string
}

type entryView struct {
	Portal     string // the portal's name (the template escapes it)
	Attributes string // labels, in words
	When       string // "14:02 04/12/2026", Viet Nam time
	ISO        string // for <time datetime>
	Level      string // "mức 2"
	Endpoint   string // how it left, in words
}

type portalOption struct {
	Key, Name string
	Selected  bool
}

// activity lists the citizen's data releases, newest first, filtered by
// portal and month, an "older" link per page (keyset on time and ID).
func (a *Account) activity(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, activityPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	lang := server.Locale(r, nil)
	q := r.URL.Query()
	pg := activityView{}
	f := store.LedgerFilter{Portal: q.Get("portal"), Limit: activityPage + 1}
	if m := q.Get("month"); m != "" {
		since, err := time.ParseInLocation("2006-01", m, displayZone)
		if err != nil {
			pg.Error = a.o.Renderer.Text(lang, ui.LedgerErrMonth)
		} else {
			f.Since, f.Until, pg.Month = since, since.AddDate(0, 1, 0), m
		}
	}
	if b := q.Get("before"); b != "" {
		at, id, ok := parseCursor(b)
		if !ok {
			a.o.Renderer.Error(w, r, http.StatusBadRequest, lang, "err_form")
			return
		}
		f.BeforeTime, f.BeforeID = at, id
	}
	portals, err := a.o.Ledger.LedgerPortalsOf(ctx, sess.CitizenID)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "ledger portals", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	for _, p := range portals {
		pg.Portals = append(pg.Portals, portalOption{Key: p.Portal, Name: p.Name, Selected: p.Portal == f.Portal})
	}
	entries, err := a.o.Ledger.ListLedger(ctx, sess.CitizenID, f)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list ledger", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	if len(entries) > activityPage {
		entries = entries[:activityPage]
		last := entries[len(entries)-1]
		older := url.Values{"before": {formatCursor(last.Time, last.ID)}}
		if f.Portal != "" {
			older.Set("portal", f.Portal)
		}
		if pg.Month != "" {
			older.Set("month", pg.Month)
		}
		pg.Older = activityPath + "?" + older.Encode()
	}
	for _, e := range entries {
		pg.Entries = append(pg.Entries, a.entryView(lang, e))
	}
	a.o.Renderer.Render(w, r, http.StatusOK, "account_activity", lang, string(ui.LedgerTitle), pg)
}

func (a *Account) entryView(lang string, e store.LedgerEntry) entryView {
	return entryView{
		Portal:     e.PortalName,
		Attributes: a.attributeWords(lang, e.Attributes),
		When:       e.Time.In(displayZone).Format("15:04 02/01/2006"),
		ISO:        e.Time.UTC().Format(time.RFC3339),
		Level:      fmt.Sprintf(a.o.Renderer.Text(lang, ui.LedgerLevel), e.Level),
		Endpoint:   a.o.Renderer.Text(lang, endpointLabel(e.Endpoint)),
	}
}

// attributeWords says the attributes as a list of plain-language names in
// lower case ("họ và tên, ngày sinh").
func (a *Account) attributeWords(lang string, names []string) string {
	var words []string
	for _, at := range release.Parse(names) {
		words = append(words, lowerFirst(a.o.Renderer.Text(lang, at.Label())))
	}
	return strings.Join(words, ", ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

func endpointLabel(endpoint string) ui.ID {
	switch endpoint {
	case store.EndpointToken:
		return ui.LedgerEndpointToken
	case store.EndpointUserinfo:
		return ui.LedgerEndpointUserinfo
	case store.EndpointIntrospect:
		return ui.LedgerEndpointIntrospect
	case store.EndpointSAMLSSO:
		return ui.LedgerEndpointSAML
	}
	return ui.AttrUnknown
}

// A paging cursor is "<unix microseconds>.<entry id>".
func formatCursor(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixMicro(), 10) + "." + id
}

func parseCursor(s string) (time.Time, string, bool) {
	us, id, ok := strings.Cut(s, ".")
	if !ok || id == "" || len(s) > 200 {
		return time.Time{}, "", false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}
