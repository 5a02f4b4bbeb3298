package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/ui"
)

// The audit log, read: filtered lists, one event with its before and
// after, and a CSV export of a filtered set.

const (
	auditPerPage   = 50
	exportPageSize = 1000
	// inputTime is the layout of <input type="datetime-local">, read in
	// the console's time zone.
	inputTime = "2006-01-02T15:04"
)

// auditActions are the actions CitizenID records, offered by the filter;
// actions recorded in the last day, and the one filtered on, join them,
// so a new action is never unreachable. Keep it in step with the code
// that records (audit.Event.Action, Admin.record).
var auditActions = []string{
	"account.export", "admin.denied", "admin.grant", "admin.login", "admin.logout", "admin.revoke", "audit.export",
	"certificate.bind", "certificate.validate",
	"citizen.create", "citizen.disable", "citizen.enable", "citizen.identity_level", "citizen.register", "citizen.register_start",
	"citizen.sessions_end", "citizen.takeover", "citizen.update",
	"client.api_access", "client.create", "client.delete", "client.disable", "client.enable", "client.secret_rotate", "client.update",
	"consent.withdraw", "contact.remove", "keys.retire", "keys.rotate", "ledger.view",
	"login.certificate", "login.password", "login.recovery", "login.totp", "login.webauthn",
	"oidc.client_auth", "oidc.client_credentials", "oidc.code_replay", "oidc.refresh_reuse",
	"password.change", "password.recover_second_factor", "password.recover_start", "password.reset",
	"saml.authn_request", "saml.logout", "saml.response", "selfservice.throttled", "session.end",
	"sp.create", "sp.delete", "sp.disable", "sp.enable", "sp.metadata", "sp.update",
	"totp.remove", "totp.reset", "verification.code", "webauthn.enrol", "webauthn.flag", "webauthn.remove", "webauthn.reset",
}

// auditOutcomes are the outcomes events record, offered by the filter
// like the actions.
var auditOutcomes = []string{"success", "failure", "throttled", "refused", "skipped"}

// auditQuery is the audit filter as the form has it.
type auditQuery struct {
	Since, Until, Actor, Action, Target, Outcome string
	Invalid                                      bool // a time did not parse
}

// parseAuditQuery reads the filter from the query string; times are in
// the console's zone. On the first visit (no since at all) the last 24
// hours are shown.
func (a *Admin) parseAuditQuery(q url.Values) (auditQuery, store.AuditFilter) {
	aq := auditQuery{Since: q.Get("since"), Until: q.Get("until"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("target")), Outcome: strings.TrimSpace(q.Get("outcome"))}
	if !q.Has("since") {
		aq.Since = a.now().Add(-24 * time.Hour).In(a.zone()).Format(inputTime)
	}
	f := store.AuditFilter{Actor: aq.Actor, Action: aq.Action, Target: aq.Target, Outcome: aq.Outcome}
	parse := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(inputTime, s, a.zone())
		if err != nil {
			if t, err = time.Parse(time.RFC3339, s); err != nil {
				aq.Invalid = true
				return time.Time{}
			}
		}
		return t
	}
	f.Since, f.Until = parse(aq.Since), parse(aq.Until)
	return aq, f
}

func (aq auditQuery) values() url.Values {
	return url.Values{"since": {aq.Since}, "until": {aq.Until}, "actor": {aq.Actor}, "action": {aq.Action},
		"target": {aq.Target}, "outcome": {aq.Outcome}}
}

type auditRow struct {
	Seq                                            int64
	Time, Actor, Action, Target, Outcome, ClientIP string
	// ActorName and TargetName name the citizen (or administrator) an
	// actor or target "citizen:<id>" or "admin:<id>" is; "" otherwise.
	ActorName, TargetName string
	Failed                bool
}

// auditView is the view model of admin_audit.html.
type auditView struct {
	*chrome
	Query    auditQuery
	Actions  []choice // the filter's choices; Checked is the one selected
	Outcomes []choice
	Zone     string // the zone the times are in: "Asia/Ho_Chi_Minh, +07:00"
	Events   []auditRow
	Next     string
	Export   string
}

func (a *Admin) auditRow(e store.AuditEvent, names map[string]string) auditRow {
	return auditRow{Seq: e.Seq, Time: a.fmtTime(e.Time), Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome,
		ClientIP: e.ClientIP, Failed: e.Outcome != "success", ActorName: names[e.Actor], TargetName: names[e.Target]}
}

// citizenOf returns the citizen ID of an actor or target that names one.
func citizenOf(ref string) (string, bool) {
	for _, p := range []string{"citizen:", "admin:"} {
		if id, ok := strings.CutPrefix(ref, p); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// names loads the name of every citizen the events name as actor or
// target, each once (a page names few people, often the same ones).
func (a *Admin) names(ctx context.Context, events []store.AuditEvent) map[string]string {
	names := map[string]string{}
	byID := map[string]string{}
	for _, e := range events {
		for _, ref := range []string{e.Actor, e.Target} {
			id, ok := citizenOf(ref)
			if !ok {
				continue
			}
			name, seen := byID[id]
			if !seen {
				if c, err := a.o.Store.CitizenByID(ctx, id); err == nil {
					name = c.Name
				} else if !errors.Is(err, store.ErrNotFound) {
					a.o.Log.WarnContext(ctx, "name an audit actor", "err", err)
				}
				byID[id] = name
			}
			if name != "" {
				names[ref] = name
			}
		}
	}
	return names
}

// zoneLabel names the console's zone and its offset now.
func (a *Admin) zoneLabel() string {
	return a.zone().String() + ", " + a.now().In(a.zone()).Format("-07:00")
}

// filterChoices are the filter's choices: the known values, those
// recorded in the last day, and the one selected; "" (any) first.
func (a *Admin) filterChoices(lang string, known, seen []string, selected string, label func(string) string) []choice {
	vals := slices.Concat(known, seen)
	if selected != "" {
		vals = append(vals, selected)
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	out := []choice{{Value: "", Label: a.rd.t(lang, "admin_filter_any"), Checked: selected == ""}}
	for _, v := range vals {
		out = append(out, choice{Value: v, Label: label(v), Checked: v == selected})
	}
	return out
}

// outcomeLabel translates an outcome the catalogue knows; others show
// as recorded.
func (a *Admin) outcomeLabel(lang string) func(string) string {
	return func(o string) string {
		if msg, ok := a.rd.Lookup(lang, "admin_outcome_"+o); ok {
			return msg + " (" + o + ")"
		}
		return o
	}
}

// auditFilterView fills the filter's choices: the known actions and
// outcomes and those recorded in the last day (one grouped count).
func (a *Admin) auditFilterView(ctx context.Context, lang string, v *auditView) {
	var actions, outcomes []string
	now := a.now()
	counts, err := a.o.Store.CountAudit(ctx, now.Add(-24*time.Hour), time.Time{}, "")
	if err != nil {
		a.o.Log.WarnContext(ctx, "recent audit actions", "err", err)
	}
	for _, c := range counts {
		actions, outcomes = append(actions, c.Action), append(outcomes, c.Outcome)
	}
	same := func(s string) string { return s }
	v.Actions = a.filterChoices(lang, auditActions, actions, v.Query.Action, same)
	v.Outcomes = a.filterChoices(lang, auditOutcomes, outcomes, v.Query.Outcome, a.outcomeLabel(lang))
	v.Zone = a.zoneLabel()
}

func (a *Admin) listAudit(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	aq, f := a.parseAuditQuery(r.URL.Query())
	v := auditView{chrome: a.chrome(r, act), Query: aq, Export: "/admin/audit/export.csv?" + aq.values().Encode()}
	a.auditFilterView(ctx, act.lang, &v)
	if aq.Invalid {
		v.Problem = a.rd.t(act.lang, "admin_err_time")
		a.rd.render(w, r, http.StatusBadRequest, "admin_audit", "admin_audit_title", v)
		return
	}
	f.AfterSeq, _ = strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	f.Limit = auditPerPage + 1
	events, err := a.o.Store.ListAudit(ctx, f)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list audit", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
		return
	}
	if len(events) > auditPerPage {
		events = events[:auditPerPage]
		q := aq.values()
		q.Set("after", strconv.FormatInt(events[len(events)-1].Seq, 10))
		v.Next = "/admin/audit?" + q.Encode()
	}
	names := a.names(ctx, events)
	for _, e := range events {
		v.Events = append(v.Events, a.auditRow(e, names))
	}
	a.rd.render(w, r, http.StatusOK, "admin_audit", "admin_audit_title", v)
}

// auditEventView is the view model of admin_audit_event.html.
type auditEventView struct {
	*chrome
	Event    auditRow
	Details  []field
	Before   string
	After    string
	PrevHash string
	Hash     string
	Linked   bool // the hash chain holds between this event and the one before
}

func (a *Admin) showAuditEvent(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_event", a.chrome(r, act))
		return
	}
	events, err := a.o.Store.ListAudit(ctx, store.AuditFilter{AfterSeq: max(seq-2, 0), Limit: 2})
	if err != nil {
		a.o.Log.ErrorContext(ctx, "read audit event", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	i := slices.IndexFunc(events, func(e store.AuditEvent) bool { return e.Seq == seq })
	if i < 0 {
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_event", a.chrome(r, act))
		return
	}
	e := events[i]
	v := auditEventView{chrome: a.chrome(r, act), Event: a.auditRow(e, a.names(ctx, []store.AuditEvent{e})), PrevHash: e.PrevHash, Hash: e.Hash,
		Linked: store.VerifyAuditChain(events[:i+1]) == nil}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch k {
		case "before":
			v.Before = indentJSON(e.Details[k])
		case "after":
			v.After = indentJSON(e.Details[k])
		default:
			v.Details = append(v.Details, field{k, e.Details[k]})
		}
	}
	a.rd.render(w, r, http.StatusOK, "admin_audit_event", "admin_audit_event_title", v)
}

func indentJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

// exportAudit streams the filtered events as CSV. The export itself is
// audited, with its filter.
func (a *Admin) exportAudit(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	aq, f := a.parseAuditQuery(r.URL.Query())
	if aq.Invalid {
		a.rd.error(w, r, http.StatusBadRequest, "admin_err_time", a.chrome(r, act))
		return
	}
	a.record(ctx, act, "audit.export", "audit", "success", map[string]string{"filter": aq.values().Encode()}, nil, nil)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="citizenid-audit-`+a.now().UTC().Format("20060102T150405Z")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	io.WriteString(w, ui.CSVBOM)
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "actor", "action", "target", "outcome", "client_ip", "details", "prev_hash", "hash"})
	f.Limit = exportPageSize
	for {
		events, err := a.o.Store.ListAudit(ctx, f)
		if err != nil {
			// Headers are gone; the truncated file ends with a marker row.
			a.o.Log.ErrorContext(ctx, "export audit", "err", err)
			cw.Write([]string{"error", "export incomplete"})
			break
		}
		for _, e := range events {
			d, _ := json.Marshal(e.Details)
			if e.Details == nil {
				d = []byte("{}")
			}
			cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), ui.CSVCell(e.Actor), ui.CSVCell(e.Action),
				ui.CSVCell(e.Target), ui.CSVCell(e.Outcome), ui.CSVCell(e.ClientIP), ui.CSVCell(string(d)), e.PrevHash, e.Hash})
		}
		if len(events) < exportPageSize {
			break
		}
		f.AfterSeq = events[len(events)-1].Seq
	}
	cw.Flush()
}
