package admin

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// dashboardView is the view model of admin_dashboard.html.
type dashboardView struct {
	*chrome
	Since       string
	Logins      []loginRow
	Totals      loginRow
	Sessions    int64 // live SSO sessions, every citizen
	Clients     int
	Disabled    int
	SPs         int
	SPsDisabled int
	Keys        []keyRow
	CanClients  bool
	CanKeys     bool
	MinLevel    int
	IdleMinutes int
	// Releases counts data releases per portal over releaseDays (ledger.go).
	Releases      []releaseRow
	ReleasesTotal int64
	ReleaseDays   int
	// Charts of the last 24 hours, hour by hour: successful login steps
	// by method and by the level they reach, failures and throttling.
	Charts []*chart
	Zone   string
}

// ChartLeft and ChartRight are where the charts' axis runs.
func (dashboardView) ChartLeft() int  { return chartLeft }
func (dashboardView) ChartRight() int { return chartW }

// loginRow counts the authentications of one method in the last 24 hours.
type loginRow struct {
	Method    string // translated
	Level     string // the level one success of the method reaches ("1", "2"; "" when it adds none)
	Success   int64
	Failure   int64
	Throttled int64
	Other     int64
}

// methodLevels names each login step's method and the level a success
// reaches. Steps added later (passkeys, certificates) are counted under
// their own action name until they are listed here.
var methodLevels = map[string]struct{ key, level string }{
	"login.password":    {"admin_method_password", "1"},
	"login.totp":        {"admin_method_totp", "2"},
	"login.recovery":    {"admin_method_recovery", "1"},
	"login.webauthn":    {"admin_method_webauthn", "3"},
	"login.certificate": {"admin_method_certificate", "4"},
}

// dashboardHours is how many hours the dashboard charts.
const dashboardHours = 24

// hourlyCounts counts the login events of each of the last
// dashboardHours hours, the current one last; hours start on the hour in
// the console's zone. One grouped count per hour: bounded, and the same
// query on every dialect.
func (a *Admin) hourlyCounts(ctx context.Context, now time.Time) (time.Time, [][]store.AuditCount, error) {
	l := now.In(a.zone())
	start := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, a.zone()).Add(-(dashboardHours - 1) * time.Hour)
	out := make([][]store.AuditCount, dashboardHours)
	for h := range out {
		from := start.Add(time.Duration(h) * time.Hour)
		counts, err := a.o.Store.CountAudit(ctx, from, from.Add(time.Hour), "login.")
		if err != nil {
			return start, nil, err
		}
		out[h] = counts
	}
	return start, out, nil
}

// charts draws the dashboard's hourly charts from the counts.
func (a *Admin) charts(lang string, start time.Time, hourly [][]store.AuditCount) []*chart {
	hours := make([]string, len(hourly))
	for h := range hours {
		hours[h] = start.Add(time.Duration(h) * time.Hour).In(a.zone()).Format("15:04")
	}
	// The methods seen, known ones first in their order.
	methods := []string{"login.password", "login.totp", "login.webauthn", "login.certificate", "login.recovery"}
	for _, counts := range hourly {
		for _, c := range counts {
			if !slices.Contains(methods, c.Action) {
				methods = append(methods, c.Action)
			}
		}
	}
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = a.methodName(lang, m)
	}
	levels := []string{"1", "2", "3", "4"}
	levelNames := make([]string, len(levels))
	for i, l := range levels {
		levelNames[i] = a.rd.t(lang, "admin_level_reached") + " " + l
	}
	byMethod := newChart("chart-method", a.rd.t(lang, "admin_chart_by_method"), hours, names)
	byLevel := newChart("chart-level", a.rd.t(lang, "admin_chart_by_level"), hours, levelNames)
	problems := newChart("chart-problems", a.rd.t(lang, "admin_chart_problems"), hours,
		[]string{a.rd.t(lang, "admin_outcome_failure"), a.rd.t(lang, "admin_outcome_throttled")})
	for h, counts := range hourly {
		for _, c := range counts {
			switch c.Outcome {
			case "success":
				byMethod.add(slices.Index(methods, c.Action), h, c.Count)
				if l := slices.Index(levels, methodLevels[c.Action].level); l >= 0 {
					byLevel.add(l, h, c.Count)
				}
			case "failure":
				problems.add(0, h, c.Count)
			case "throttled":
				problems.add(1, h, c.Count)
			}
		}
	}
	out := []*chart{byMethod, byLevel, problems}
	for _, c := range out {
		var parts []string
		for _, s := range c.Series {
			parts = append(parts, s.Name+": "+strconv.FormatInt(s.Total, 10))
		}
		c.Summary = c.Title + " — " + strings.Join(parts, "; ")
		c.draw()
	}
	return out
}

// methodName translates a login step's action.
func (a *Admin) methodName(lang, action string) string {
	if m, ok := methodLevels[action]; ok {
		return a.rd.t(lang, m.key)
	}
	return strings.TrimPrefix(action, "login.")
}

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	now := a.now()
	since, hourly, err := a.hourlyCounts(ctx, now)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "count logins", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	v := dashboardView{chrome: a.chrome(r, act), Since: a.fmtTime(since), MinLevel: int(a.o.MinLevel),
		IdleMinutes: int(a.o.IdleTimeout.Minutes()), CanClients: act.can(permRPRead), CanKeys: act.can(permKeysRead),
		Charts: a.charts(act.lang, since, hourly), Zone: a.zoneLabel()}
	if v.Sessions, err = a.o.Sessions.CountLive(ctx); err != nil {
		a.o.Log.ErrorContext(ctx, "count sessions", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
		return
	}
	if v.Releases, v.ReleasesTotal, err = a.releaseRows(r); err != nil {
		a.o.Log.ErrorContext(ctx, "count data releases", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
		return
	}
	v.ReleaseDays = releaseDays
	rows := map[string]*loginRow{}
	var order []string
	for _, c := range slices.Concat(hourly...) {
		row, ok := rows[c.Action]
		if !ok {
			row = &loginRow{Method: a.methodName(act.lang, c.Action), Level: methodLevels[c.Action].level}
			rows[c.Action] = row
			order = append(order, c.Action)
		}
		switch c.Outcome {
		case "success":
			row.Success += c.Count
			v.Totals.Success += c.Count
		case "failure":
			row.Failure += c.Count
			v.Totals.Failure += c.Count
		case "throttled":
			row.Throttled += c.Count
			v.Totals.Throttled += c.Count
		default:
			row.Other += c.Count
			v.Totals.Other += c.Count
		}
	}
	slices.Sort(order)
	for _, k := range order {
		v.Logins = append(v.Logins, *rows[k])
	}
	if v.CanClients {
		clients, err := a.o.Store.ListClients(ctx)
		if err != nil {
			a.o.Log.ErrorContext(ctx, "list clients", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
			return
		}
		v.Clients = len(clients)
		for _, c := range clients {
			if c.Disabled {
				v.Disabled++
			}
		}
		sps, err := a.o.Store.ListServiceProviders(ctx)
		if err != nil {
			a.o.Log.ErrorContext(ctx, "list service providers", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
			return
		}
		v.SPs = len(sps)
		for _, sp := range sps {
			if sp.Disabled {
				v.SPsDisabled++
			}
		}
	}
	if v.CanKeys {
		keys, err := a.keyRows(r, act)
		if err != nil {
			a.o.Log.ErrorContext(ctx, "list keys", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
			return
		}
		v.Keys = keys
	}
	a.rd.render(w, r, http.StatusOK, "admin_dashboard", "admin_dashboard_title", v)
}
