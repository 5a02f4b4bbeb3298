package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/store"
)

// Citizens: finding an account, seeing its state (never a secret), and the
// helpdesk's actions on it.

const citizensPerPage = 20

// Reasons for an authenticator reset: written by the helpdesk, kept in the
// audit log.
const (
	minReasonLen = 10
	maxReasonLen = 500
)

// citizenJSON is a citizen as the API returns it and the audit log records
// it (the number masked there).
type citizenJSON struct {
	ID             string              `json:"id"`
	Number         string              `json:"number"`
	Name           string              `json:"name"`
	IdentityLevel  int                 `json:"identity_level"`
	Disabled       bool                `json:"disabled"`
	Authenticators []authenticatorJSON `json:"authenticators,omitempty"`
	Sessions       []sessionJSON       `json:"sessions,omitempty"`
	Roles          []string            `json:"roles,omitempty"`
	CreatedAt      time.Time           `json:"created_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
}

// authenticatorJSON is one enrolled authenticator: its kind, name and use,
// never its secret or key.
type authenticatorJSON struct {
	Type        string     `json:"type"` // password, totp, recovery_codes, webauthn
	Name        string     `json:"name,omitempty"`
	Confirmed   bool       `json:"confirmed"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	Remaining   *int       `json:"remaining,omitempty"` // recovery codes left
	DeviceBound *bool      `json:"device_bound,omitempty"`
	Flagged     bool       `json:"flagged,omitempty"`
	// CredentialRef names a passkey (webauthn.Fingerprint of its ID, as
	// in the audit log) to remove it; never the ID itself.
	CredentialRef string `json:"credential_ref,omitempty"`
}

// sessionJSON is one live SSO session.
type sessionJSON struct {
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	Methods   []string  `json:"methods"`
	Level     int       `json:"level"`
	Portals   int       `json:"portals"`
}

// citizenFacts gathers what an administrator may see of a citizen.
func (a *Admin) citizenFacts(ctx context.Context, c *store.Citizen) (citizenJSON, error) {
	j := citizenJSON{ID: c.ID, Number: c.Number, Name: c.Name, IdentityLevel: max(c.IdentityLevel, 1), Disabled: c.Disabled,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if _, err := a.o.Store.PasswordHash(ctx, c.ID); err == nil {
		j.Authenticators = append(j.Authenticators, authenticatorJSON{Type: "password", Confirmed: true})
	} else if !errors.Is(err, store.ErrNotFound) {
		return j, err
	}
	cred, err := a.o.Store.TOTP(ctx, c.ID)
	switch {
	case err == nil:
		j.Authenticators = append(j.Authenticators, authenticatorJSON{Type: "totp", Confirmed: cred.Confirmed,
			CreatedAt: optTime(cred.CreatedAt), LastUsedAt: optTime(cred.LastUsedAt)})
		n, err := a.o.Store.RecoveryCodesLeft(ctx, c.ID)
		if err != nil {
			return j, err
		}
		j.Authenticators = append(j.Authenticators, authenticatorJSON{Type: "recovery_codes", Confirmed: true, Remaining: &n})
	case !errors.Is(err, store.ErrNotFound):
		return j, err
	}
	creds, err := a.o.Store.ListWebAuthnCredentials(ctx, c.ID)
	if err != nil {
		return j, err
	}
	for _, w := range creds {
		bound := !w.BackupEligible
		j.Authenticators = append(j.Authenticators, authenticatorJSON{Type: "webauthn", Name: w.Name, Confirmed: true,
			CreatedAt: optTime(w.CreatedAt), LastUsedAt: optTime(w.LastUsedAt), DeviceBound: &bound, Flagged: w.Flagged,
			CredentialRef: webauthn.Fingerprint(w.ID)})
	}
	sessions, err := a.o.Sessions.ListForCitizen(ctx, c.ID)
	if err != nil {
		return j, err
	}
	for _, s := range sessions {
		sj := sessionJSON{CreatedAt: s.CreatedAt.UTC(), LastSeen: s.LastSeen.UTC(), Portals: len(s.Participants), Methods: []string{}}
		for _, ev := range s.Events {
			sj.Methods = append(sj.Methods, ev.Method)
		}
		sj.Level = int(a.o.Login.Evaluate(s, login.Request{}).Level)
		j.Sessions = append(j.Sessions, sj)
	}
	roles, err := a.o.Store.RolesOf(ctx, c.ID)
	if err != nil {
		return j, err
	}
	j.Roles = roles
	return j, nil
}

// auditCitizen is what the audit log keeps of a citizen's state: no
// number in clear, no names.
type auditCitizen struct {
	Number        string `json:"number"`
	IdentityLevel int    `json:"identity_level"`
	Disabled      bool   `json:"disabled"`
}

func auditState(c *store.Citizen) auditCitizen {
	return auditCitizen{Number: audit.MaskNumber(c.Number), IdentityLevel: max(c.IdentityLevel, 1), Disabled: c.Disabled}
}

// errProtected: the citizen holds an administrative role and only an owner
// may act on their account.
var errProtected = errors.New("the account of an administrator can be changed by an owner only")

// mayChange refuses non-owners acting on an administrator's account.
func (a *Admin) mayChange(ctx context.Context, act *actor, citizenID string) error {
	if act.can(permAdmins) {
		return nil
	}
	roles, err := a.o.Store.RolesOf(ctx, citizenID)
	if err != nil {
		return err
	}
	if len(roles) > 0 {
		return errProtected
	}
	return nil
}

// errSelf: administrators do not disable their own account.
var errSelf = errors.New("administrators cannot disable their own account")

// doSetCitizenDisabled disables (and logs out everywhere) or enables an account.
func (a *Admin) doSetCitizenDisabled(ctx context.Context, act *actor, id string, disabled bool) error {
	if disabled && act.citizenID == id {
		return errSelf
	}
	if err := a.mayChange(ctx, act, id); err != nil {
		return err
	}
	var before, after auditCitizen
	err := a.o.Store.UpdateCitizen(ctx, id, func(c *store.Citizen) error {
		before = auditState(c)
		c.Disabled = disabled
		after = auditState(c)
		return nil
	})
	if err != nil {
		return err
	}
	action, details := "citizen.enable", map[string]string(nil)
	if disabled {
		action = "citizen.disable"
		n, err := a.endAllSessions(ctx, act, id, "account disabled")
		if err != nil {
			return err
		}
		details = map[string]string{"sessions_ended": strconv.Itoa(n)}
	}
	a.record(ctx, act, action, "citizen:"+id, "success", details, before, after)
	return nil
}

// endAllSessions ends every SSO session of the citizen through the login
// engine's End, without a browser: protocols do what they can without one.
func (a *Admin) endAllSessions(ctx context.Context, act *actor, citizenID, reason string) (int, error) {
	return a.o.Login.EndAll(ctx, citizenID, "", login.How{Actor: act.ref, Reason: reason})
}

func (a *Admin) doEndSessions(ctx context.Context, act *actor, id string) (int, error) {
	if _, err := a.o.Store.CitizenByID(ctx, id); err != nil {
		return 0, err
	}
	if err := a.mayChange(ctx, act, id); err != nil {
		return 0, err
	}
	n, err := a.endAllSessions(ctx, act, id, "administrator")
	if err != nil {
		return n, err
	}
	a.record(ctx, act, "citizen.sessions_end", "citizen:"+id, "success", map[string]string{"sessions_ended": strconv.Itoa(n)}, nil, nil)
	return n, nil
}

// errReason: an authenticator reset needs a written reason.
var errReason = errors.New("a reason of 10 to 500 characters is required")

// doResetTOTP removes the citizen's authenticator app and recovery codes
// so they can set it up again; the reason goes to the audit log.
func (a *Admin) doResetTOTP(ctx context.Context, act *actor, id, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < minReasonLen || n > maxReasonLen {
		return errReason
	}
	if _, err := a.o.Store.CitizenByID(ctx, id); err != nil {
		return err
	}
	if err := a.mayChange(ctx, act, id); err != nil {
		return err
	}
	err := a.o.TOTP.Remove(ctx, id)
	if errors.Is(err, totp.ErrNotEnrolled) {
		return err
	} else if err != nil {
		return err
	}
	a.record(ctx, act, "totp.reset", "citizen:"+id, "success", map[string]string{"reason": reason},
		map[string]bool{"totp": true}, map[string]bool{"totp": false})
	return nil
}

// errNoPasskey: the citizen has no passkey, or none with the reference given.
var errNoPasskey = errors.New("the citizen has no such passkey")

// auditPasskey is what the audit log keeps of a passkey: its reference
// and kind; never its ID, key or the name the citizen gave it.
type auditPasskey struct {
	Credential string `json:"credential"`
	Synced     bool   `json:"synced"`
	Flagged    bool   `json:"flagged,omitempty"`
}

func auditPasskeys(creds []store.WebAuthnCredential) []auditPasskey {
	out := []auditPasskey{}
	for _, c := range creds {
		out = append(out, auditPasskey{Credential: webauthn.Fingerprint(c.ID), Synced: c.BackupEligible, Flagged: c.Flagged})
	}
	return out
}

// doResetPasskeys removes the citizen's passkey named by ref (its
// credential_ref), or every passkey when ref is empty, and returns how
// many went; the reason goes to the audit log with the passkeys before and
// after. The citizen can then register a new one after a password login.
func (a *Admin) doResetPasskeys(ctx context.Context, act *actor, id, ref, reason string) (int, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < minReasonLen || n > maxReasonLen {
		return 0, errReason
	}
	if _, err := a.o.Store.CitizenByID(ctx, id); err != nil {
		return 0, err
	}
	if err := a.mayChange(ctx, act, id); err != nil {
		return 0, err
	}
	before, err := a.o.Store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		return 0, err
	}
	var removed []string
	var failed error
	for _, c := range before {
		fp := webauthn.Fingerprint(c.ID)
		if ref != "" && fp != ref {
			continue
		}
		err := a.o.Store.DeleteWebAuthnCredential(ctx, id, c.ID)
		if errors.Is(err, store.ErrNotFound) { // removed meanwhile
			continue
		} else if err != nil {
			failed = err
			break
		}
		removed = append(removed, fp)
	}
	if len(removed) == 0 && failed == nil {
		return 0, errNoPasskey
	}
	after, err := a.o.Store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		failed = errors.Join(failed, err)
	}
	scope := "all"
	if ref != "" {
		scope = "one"
	}
	outcome := "success"
	if failed != nil {
		outcome = "failure"
	}
	a.record(ctx, act, "webauthn.reset", "citizen:"+id, outcome,
		map[string]string{"reason": reason, "scope": scope, "removed": strconv.Itoa(len(removed)), "credentials": strings.Join(removed, " ")},
		map[string][]auditPasskey{"passkeys": auditPasskeys(before)}, map[string][]auditPasskey{"passkeys": auditPasskeys(after)})
	return len(removed), failed
}

// errLevel: identity levels are 1 and 2.
var errLevel = errors.New("identity level must be 1 or 2")

func (a *Admin) doSetIdentityLevel(ctx context.Context, act *actor, id string, level int) error {
	if level != 1 && level != 2 {
		return errLevel
	}
	var before, after auditCitizen
	err := a.o.Store.UpdateCitizen(ctx, id, func(c *store.Citizen) error {
		before = auditState(c)
		c.IdentityLevel = level
		after = auditState(c)
		return nil
	})
	if err != nil {
		return err
	}
	a.record(ctx, act, "citizen.identity_level", "citizen:"+id, "success", nil, before, after)
	return nil
}

// Console pages.

type citizenRow struct {
	ID, Number, Name, Status string
	IdentityLevel            int
}

// citizensView is the view model of admin_citizens.html.
type citizensView struct {
	*chrome
	Query    string
	Searched bool
	Citizens []citizenRow
	Next     string
}

func (a *Admin) listCitizens(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := citizensView{chrome: a.chrome(r, act), Query: q}
	if q != "" {
		v.Searched = true
		found, err := a.o.Store.SearchCitizens(ctx, q, r.URL.Query().Get("after"), citizensPerPage+1)
		if err != nil {
			a.o.Log.ErrorContext(ctx, "search citizens", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", v.chrome)
			return
		}
		if len(found) > citizensPerPage {
			found = found[:citizensPerPage]
			v.Next = "/admin/citizens?" + url.Values{"q": {q}, "after": {found[len(found)-1].Number}}.Encode()
		}
		for _, c := range found {
			v.Citizens = append(v.Citizens, a.citizenRow(act.lang, &c))
		}
	}
	a.rd.render(w, r, http.StatusOK, "admin_citizens", "admin_citizens_title", v)
}

func (a *Admin) citizenRow(lang string, c *store.Citizen) citizenRow {
	row := citizenRow{ID: c.ID, Number: c.Number, Name: c.Name, IdentityLevel: max(c.IdentityLevel, 1), Status: a.rd.t(lang, "admin_status_active")}
	if c.Disabled {
		row.Status = a.rd.t(lang, "admin_status_disabled")
	}
	return row
}

// citizenView is the view model of admin_citizen.html.
type citizenView struct {
	*chrome
	Citizen        citizenRow
	Disabled       bool
	Authenticators []authRow
	HasTOTP        bool
	Passkeys       []passkeyOption
	Sessions       []sessionRow
	Roles          string
	CanWrite       bool
	CanLevel       bool
	// CanTakeOver: the account is self-registered at identity level 1 and
	// the operator may proof its owner ("proof and take over").
	CanTakeOver     bool
	CanLedger       bool // an auditor may open the citizen's ledger (ledger.go)
	Reason          string
	ReasonInvalid   bool
	ReasonFor       string // the form the reason belongs to: "totp", "webauthn" or "takeover"
	Errors          formErrors
	Created, Update string
}

// reasonFields are the ids of the reason fields of the citizen page's
// forms (admin_citizen.html).
var reasonFields = map[string]string{"totp": "reason", "webauthn": "webauthn-reason", "takeover": "takeover-reason"}

type authRow struct {
	Type, Name, State, Created, LastUsed, Ref string
}

// passkeyOption is one passkey in the removal form's choice.
type passkeyOption struct {
	Ref, Label string
}

type sessionRow struct {
	Created, LastSeen, Methods string
	Level, Portals             int
}

func (a *Admin) loadCitizen(w http.ResponseWriter, r *http.Request, act *actor) *store.Citizen {
	c, err := a.o.Store.CitizenByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_citizen", a.chrome(r, act))
		return nil
	} else if err != nil {
		a.o.Log.ErrorContext(r.Context(), "load citizen", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return nil
	}
	return c
}

func (a *Admin) showCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	a.renderCitizen(w, r, act, c, http.StatusOK, "", "")
}

// renderCitizen shows the citizen's page; invalidFor names the reset form
// ("totp", "webauthn") whose reason was refused, with the reason typed.
func (a *Admin) renderCitizen(w http.ResponseWriter, r *http.Request, act *actor, c *store.Citizen, status int, reason, invalidFor string) {
	ctx := r.Context()
	facts, err := a.citizenFacts(ctx, c)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "citizen facts", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	lang := act.lang
	v := citizenView{chrome: a.chrome(r, act), Citizen: a.citizenRow(lang, c), Disabled: c.Disabled, Roles: strings.Join(facts.Roles, ", "),
		CanWrite: act.can(permCitizensWrite) && (len(facts.Roles) == 0 || act.can(permAdmins)), CanLevel: act.can(permIdentityLevel),
		CanLedger:   act.can(permAuditRead),
		CanTakeOver: act.can(permIdentityLevel) && c.SelfRegistered && c.IdentityLevel < 2,
		Reason:      reason, ReasonInvalid: invalidFor != "", ReasonFor: invalidFor, Created: a.fmtTime(c.CreatedAt), Update: a.fmtTime(c.UpdatedAt)}
	if id := reasonFields[invalidFor]; id != "" {
		v.Errors.add(id, a.rd.t(lang, "admin_err_reason"))
	}
	for _, au := range facts.Authenticators {
		row := authRow{Type: a.rd.t(lang, "admin_auth_"+au.Type), Name: au.Name, Ref: au.CredentialRef}
		if au.CreatedAt != nil {
			row.Created = a.fmtTime(*au.CreatedAt)
		}
		if au.LastUsedAt != nil {
			row.LastUsed = a.fmtTime(*au.LastUsedAt)
		}
		switch {
		case au.Remaining != nil:
			row.State = strconv.Itoa(*au.Remaining) + " " + a.rd.t(lang, "admin_codes_left")
		case au.Flagged:
			row.State = a.rd.t(lang, "admin_auth_flagged")
		case !au.Confirmed:
			row.State = a.rd.t(lang, "admin_auth_unconfirmed")
		case au.DeviceBound != nil && *au.DeviceBound:
			row.State = a.rd.t(lang, "admin_auth_device_bound")
		case au.DeviceBound != nil:
			row.State = a.rd.t(lang, "admin_auth_synced")
		default:
			row.State = a.rd.t(lang, "admin_auth_active")
		}
		switch au.Type {
		case "totp":
			v.HasTOTP = true
		case "webauthn":
			label := au.CredentialRef
			if au.Name != "" {
				label = au.Name + " (" + au.CredentialRef + ")"
			}
			v.Passkeys = append(v.Passkeys, passkeyOption{Ref: au.CredentialRef, Label: label})
		}
		v.Authenticators = append(v.Authenticators, row)
	}
	for _, s := range facts.Sessions {
		v.Sessions = append(v.Sessions, sessionRow{Created: a.fmtTime(s.CreatedAt), LastSeen: a.fmtTime(s.LastSeen),
			Methods: strings.Join(s.Methods, ", "), Level: s.Level, Portals: s.Portals})
	}
	a.rd.render(w, r, status, "admin_citizen", "admin_citizen_title", v)
}

// citizenDone answers a citizen action: back to the page with a message,
// or the error's page.
func (a *Admin) citizenDone(w http.ResponseWriter, r *http.Request, act *actor, id string, err error, msg string) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/citizens/"+id+"?done="+msg, http.StatusSeeOther)
	case errors.Is(err, errProtected):
		a.forbidden(w, r, act)
	case errors.Is(err, errSelf):
		http.Redirect(w, r, "/admin/citizens/"+id+"?err=admin_err_self", http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_citizen", a.chrome(r, act))
	case errors.Is(err, totp.ErrNotEnrolled):
		http.Redirect(w, r, "/admin/citizens/"+id+"?err=admin_err_no_totp", http.StatusSeeOther)
	case errors.Is(err, errNoPasskey):
		http.Redirect(w, r, "/admin/citizens/"+id+"?err=admin_err_no_passkey", http.StatusSeeOther)
	default:
		a.o.Log.ErrorContext(r.Context(), "change citizen", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}

func (a *Admin) disableCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil || !a.confirmed(w, r, act, "admin_confirm_citizen_disable", c.Name, "/admin/citizens/"+c.ID) {
		return
	}
	a.citizenDone(w, r, act, c.ID, a.doSetCitizenDisabled(r.Context(), act, c.ID, true), "admin_msg_disabled")
}

func (a *Admin) enableCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	a.citizenDone(w, r, act, c.ID, a.doSetCitizenDisabled(r.Context(), act, c.ID, false), "admin_msg_enabled")
}

func (a *Admin) endSessions(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil || !a.confirmed(w, r, act, "admin_confirm_sessions_end", c.Name, "/admin/citizens/"+c.ID) {
		return
	}
	_, err := a.doEndSessions(r.Context(), act, c.ID)
	a.citizenDone(w, r, act, c.ID, err, "admin_msg_sessions_ended")
}

func (a *Admin) resetTOTP(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	reason := r.PostForm.Get("reason")
	err := a.doResetTOTP(r.Context(), act, c.ID, reason)
	if errors.Is(err, errReason) {
		a.renderCitizen(w, r, act, c, http.StatusUnprocessableEntity, reason, "totp")
		return
	}
	a.citizenDone(w, r, act, c.ID, err, "admin_msg_totp_reset")
}

// resetPasskeys removes one passkey ("credential" is its reference) or
// all of them ("all").
func (a *Admin) resetPasskeys(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	ref := r.PostForm.Get("credential")
	if ref == "all" {
		ref = ""
	} else if ref == "" {
		a.rd.error(w, r, http.StatusBadRequest, "err_form", a.chrome(r, act))
		return
	}
	reason := r.PostForm.Get("reason")
	_, err := a.doResetPasskeys(r.Context(), act, c.ID, ref, reason)
	if errors.Is(err, errReason) {
		a.renderCitizen(w, r, act, c, http.StatusUnprocessableEntity, reason, "webauthn")
		return
	}
	a.citizenDone(w, r, act, c.ID, err, "admin_msg_webauthn_reset")
}

func (a *Admin) setIdentityLevel(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	level, _ := strconv.Atoi(r.PostForm.Get("level"))
	err := a.doSetIdentityLevel(r.Context(), act, c.ID, level)
	if errors.Is(err, errLevel) {
		a.rd.error(w, r, http.StatusBadRequest, "err_form", a.chrome(r, act))
		return
	}
	a.citizenDone(w, r, act, c.ID, err, "admin_msg_saved")
}
