package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/store"
)

// Administrators: who holds which role. Owners grant and revoke; the last
// owner cannot be removed.

// Errors of role changes.
var (
	errUnknownRole = errors.New("unknown role")
	errLastOwner   = errors.New("the last owner cannot be removed")
)

// RoleStore is the storage that granting and revoking roles needs.
type RoleStore interface {
	CitizenByNumber(ctx context.Context, number string) (*store.Citizen, error)
	store.AdminRoles
}

// GrantRole grants role to the citizen with number, as by ("admin:<id>",
// or "cli" for `citizenid admin grant`), and audits it with details.
func GrantRole(ctx context.Context, st RoleStore, log *audit.Logger, number string, role Role, by string, details map[string]string) (*store.Citizen, error) {
	if _, ok := ParseRole(string(role)); !ok {
		return nil, errUnknownRole
	}
	c, err := st.CitizenByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	if err := st.GrantRole(ctx, &store.AdminGrant{CitizenID: c.ID, Role: string(role), GrantedBy: by}); err != nil {
		return nil, err
	}
	log.Record(ctx, audit.Event{Actor: by, Action: "admin.grant", Target: "citizen:" + c.ID, Outcome: "success",
		ClientIP: server.ClientIP(ctx), Details: roleDetails(details, role, c)})
	return c, nil
}

// RevokeRole removes role from the citizen with number, keeping at least
// one owner, and audits it with details.
func RevokeRole(ctx context.Context, st RoleStore, log *audit.Logger, number string, role Role, by string, details map[string]string) (*store.Citizen, error) {
	if _, ok := ParseRole(string(role)); !ok {
		return nil, errUnknownRole
	}
	c, err := st.CitizenByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	err = st.RevokeRole(ctx, c.ID, string(role), role == RoleOwner)
	if errors.Is(err, store.ErrConflict) {
		return nil, errLastOwner
	} else if err != nil {
		return nil, err
	}
	log.Record(ctx, audit.Event{Actor: by, Action: "admin.revoke", Target: "citizen:" + c.ID, Outcome: "success",
		ClientIP: server.ClientIP(ctx), Details: roleDetails(details, role, c)})
	return c, nil
}

func roleDetails(extra map[string]string, role Role, c *store.Citizen) map[string]string {
	d := map[string]string{"role": string(role), "citizen_number": audit.MaskNumber(c.Number)}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// adminRow is one grant as the console lists it.
type adminRow struct {
	Number, Name, Role, GrantedBy, GrantedAt, CitizenID string
	Self                                                bool
}

// adminsView is the view model of admin_admins.html.
type adminsView struct {
	*chrome
	Admins []adminRow
	Roles  []choice
	Number string
	// Errors are the grant form's problems (number, role), with the
	// number and role typed kept.
	Errors formErrors
}

func (a *Admin) listAdmins(w http.ResponseWriter, r *http.Request, act *actor) {
	a.renderAdmins(w, r, act, http.StatusOK, nil)
}

// renderAdmins shows the administrators and the grant form; with errs,
// the form as submitted and its problems.
func (a *Admin) renderAdmins(w http.ResponseWriter, r *http.Request, act *actor, status int, errs formErrors) {
	ctx := r.Context()
	grants, err := a.o.Store.ListAdmins(ctx)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list admins", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	v := adminsView{chrome: a.chrome(r, act), Errors: errs}
	typedRole := ""
	if errs != nil {
		v.Number, typedRole = strings.TrimSpace(r.PostForm.Get("number")), r.PostForm.Get("role")
	}
	for _, g := range grants {
		c, err := a.o.Store.CitizenByID(ctx, g.CitizenID)
		if err != nil {
			a.o.Log.ErrorContext(ctx, "load administrator", "err", err)
			continue
		}
		v.Admins = append(v.Admins, adminRow{Number: c.Number, Name: c.Name, Role: g.Role, GrantedBy: a.actorName(ctx, g.GrantedBy),
			GrantedAt: a.fmtTime(g.GrantedAt), CitizenID: c.ID, Self: c.ID == act.citizenID})
	}
	for _, role := range Roles {
		v.Roles = append(v.Roles, choice{Value: string(role), Label: a.rd.t(act.lang, "admin_role_"+string(role)), Checked: typedRole == string(role)})
	}
	a.rd.render(w, r, status, "admin_admins", "admin_admins_title", v)
}

// actorName shows "admin:<id>" as the administrator's name when known.
func (a *Admin) actorName(ctx context.Context, ref string) string {
	if id, ok := strings.CutPrefix(ref, "admin:"); ok {
		if c, err := a.o.Store.CitizenByID(ctx, id); err == nil {
			return c.Name
		}
	}
	return ref
}

func (a *Admin) grantRole(w http.ResponseWriter, r *http.Request, act *actor) {
	number := strings.TrimSpace(r.PostForm.Get("number"))
	role, ok := ParseRole(r.PostForm.Get("role"))
	var errs formErrors
	if !login.ValidCitizenNumber(number) {
		errs.add("number", a.rd.t(act.lang, "admin_err_number"))
	}
	if !ok {
		errs.add("role", a.rd.t(act.lang, "admin_err_role"))
	}
	if errs != nil {
		a.renderAdmins(w, r, act, http.StatusUnprocessableEntity, errs)
		return
	}
	_, err := GrantRole(r.Context(), a.o.Store, a.o.Audit, number, role, act.ref, actorDetails(act))
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/admins?done=admin_msg_granted", http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		errs.add("number", a.rd.t(act.lang, "admin_err_no_citizen"))
		a.renderAdmins(w, r, act, http.StatusUnprocessableEntity, errs)
	case errors.Is(err, store.ErrConflict):
		errs.add("role", a.rd.t(act.lang, "admin_err_has_role"))
		a.renderAdmins(w, r, act, http.StatusUnprocessableEntity, errs)
	default:
		a.o.Log.ErrorContext(r.Context(), "grant role", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}

func (a *Admin) revokeRole(w http.ResponseWriter, r *http.Request, act *actor) {
	number := strings.TrimSpace(r.PostForm.Get("number"))
	role, ok := ParseRole(r.PostForm.Get("role"))
	if !login.ValidCitizenNumber(number) || !ok {
		http.Redirect(w, r, "/admin/admins?err=admin_err_grant_form", http.StatusSeeOther)
		return
	}
	if !a.confirmed(w, r, act, "admin_confirm_revoke", string(role)+" — "+number, "/admin/admins") {
		return
	}
	_, err := RevokeRole(r.Context(), a.o.Store, a.o.Audit, number, role, act.ref, actorDetails(act))
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/admins?done=admin_msg_revoked", http.StatusSeeOther)
	case errors.Is(err, errLastOwner):
		http.Redirect(w, r, "/admin/admins?err=admin_err_last_owner", http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		http.Redirect(w, r, "/admin/admins?err=admin_err_no_grant", http.StatusSeeOther)
	default:
		a.o.Log.ErrorContext(r.Context(), "revoke role", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}
