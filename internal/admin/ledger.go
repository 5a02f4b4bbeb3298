package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// The data-release ledger in the console. Everyone who sees the dashboard
// sees counts per portal (no citizen named). One citizen's entries are
// open to auditors only (permAuditRead), from the citizen's page or by
// their address, and every opening is itself audited (ledger.view, naming
// the citizen).

// releaseDays is the window of the dashboard's counts.
const releaseDays = 30

// releaseRow counts one portal's releases.
type releaseRow struct {
	Portal, Name string
	Count        int64
}

func (a *Admin) releaseRows(r *http.Request) ([]releaseRow, int64, error) {
	now := a.now()
	counts, err := a.o.Store.CountLedger(r.Context(), now.AddDate(0, 0, -releaseDays), time.Time{})
	if err != nil {
		return nil, 0, err
	}
	var rows []releaseRow
	var total int64
	for _, c := range counts {
		rows = append(rows, releaseRow{Portal: c.Portal, Name: c.Name, Count: c.Count})
		total += c.Count
	}
	return rows, total, nil
}

// ledgerPage is how many entries one console page lists.
const ledgerPage = 100

// ledgerView is the view model of admin_ledger.html.
type ledgerView struct {
	*chrome
	Citizen citizenRow
	Entries []ledgerRow
	Older   string
}

type ledgerRow struct {
	Time, Portal, Name, Protocol, Endpoint, Attributes, SessionID string
	Level                                                         int
}

// citizenLedger shows one citizen's ledger to an auditor, and audits it.
func (a *Admin) citizenLedger(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	ctx := r.Context()
	f := store.LedgerFilter{Limit: ledgerPage + 1}
	if b := r.URL.Query().Get("before"); b != "" {
		us, id, ok := strings.Cut(b, ".")
		n, err := strconv.ParseInt(us, 10, 64)
		if !ok || err != nil || id == "" {
			a.rd.error(w, r, http.StatusBadRequest, "err_form", a.chrome(r, act))
			return
		}
		f.BeforeTime, f.BeforeID = time.UnixMicro(n).UTC(), id
	}
	entries, err := a.o.Store.ListLedger(ctx, c.ID, f)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list a citizen's ledger", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	// Audited before anything is shown.
	a.record(ctx, act, "ledger.view", "citizen:"+c.ID, "success", nil, nil, nil)
	v := ledgerView{chrome: a.chrome(r, act), Citizen: a.citizenRow(act.lang, c)}
	if len(entries) > ledgerPage {
		entries = entries[:ledgerPage]
		last := entries[len(entries)-1]
		v.Older = "/admin/citizens/" + url.PathEscape(c.ID) + "/ledger?" +
			url.Values{"before": {strconv.FormatInt(last.Time.UnixMicro(), 10) + "." + last.ID}}.Encode()
	}
	for _, e := range entries {
		v.Entries = append(v.Entries, ledgerRow{Time: a.fmtTime(e.Time), Portal: e.Portal, Name: e.PortalName, Protocol: e.Protocol,
			Endpoint: e.Endpoint, Attributes: strings.Join(e.Attributes, ", "), SessionID: e.SessionID, Level: e.Level})
	}
	a.rd.render(w, r, http.StatusOK, "admin_ledger", "admin_ledger_title", v)
}
