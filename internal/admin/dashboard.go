package admin

import (
	"net/http"
	"strings"
	"time"
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
}

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
	"login.password": {"admin_method_password", "1"},
	"login.totp":     {"admin_method_totp", "2"},
	"login.recovery": {"admin_method_recovery", "1"},
	"login.webauthn": {"admin_method_webauthn", "3"},
}

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	now := a.now()
	since := now.Add(-24 * time.Hour)
	counts, err := a.o.Store.CountAudit(ctx, since, now.Add(time.Second), "login.")
	if err != nil {
		a.o.Log.ErrorContext(ctx, "count logins", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	v := dashboardView{chrome: a.chrome(r, act), Since: a.fmtTime(since), MinLevel: int(a.o.MinLevel),
		IdleMinutes: int(a.o.IdleTimeout.Minutes()), CanClients: act.can(permRPRead), CanKeys: act.can(permKeysRead)}
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
	for _, c := range counts {
		row, ok := rows[c.Action]
		if !ok {
			m, known := methodLevels[c.Action]
			row = &loginRow{Method: strings.TrimPrefix(c.Action, "login."), Level: m.level}
			if known {
				row.Method = a.rd.t(act.lang, m.key)
			}
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
