package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/oidc"
	samlidp "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Store is the slice of storage the console and the API use.
type Store interface {
	store.Citizens
	store.Passwords
	store.Clients
	store.TOTPs
	store.RecoveryCodes
	store.WebAuthnCredentials
	store.RefreshTokens
	store.Audit
	store.Admin
	store.ServiceProviders
	store.CertificateBindings
	store.Ledger
}

// TokenVerifier verifies the bearer tokens of admin API calls: access
// tokens CitizenID issued to a client for itself (client_credentials).
type TokenVerifier interface {
	// VerifyClientToken returns what a live token says, or an error
	// wrapping oidc.ErrNotClientToken when it is not one.
	VerifyClientToken(ctx context.Context, raw string) (*oidc.ClientToken, error)
}

// Options configures the console and the API.
type Options struct {
	// Outbox lists a portal's back-channel logouts on its page; nil: none
	// listed.
	Outbox interface {
		ListOutbox(ctx context.Context, kind, target string, limit int) ([]store.OutboxMessage, error)
	}
	Store    Store
	Login    *login.Engine
	Sessions *session.Store
	Keys     *keys.Manager
	TOTP     *totp.Authenticator
	Audit    *audit.Logger
	Tokens   TokenVerifier
	Log      *slog.Logger
	// Renderer renders the pages; it must have the admin_*.html pages.
	Renderer *server.Renderer
	// MinLevel is the authentication level the console requires (2 to 4).
	MinLevel assurance.Level
	// IdleTimeout ends a console session without console activity.
	IdleTimeout time.Duration
	// SensitiveFreshness is how recent the authentication must be for
	// sensitive actions.
	SensitiveFreshness time.Duration
	// SecretOverlap is the default time a rotated client secret keeps working.
	SecretOverlap time.Duration
	// MetadataTimeout bounds fetching a SAML service provider's metadata.
	MetadataTimeout time.Duration
	// MetadataFetch says where metadata may be fetched from.
	MetadataFetch samlidp.FetchOptions
	// Hasher makes the unusable password of an account taken over.
	Hasher *password.Hasher
	// Notifier tells citizens of an operator's changes; nil tells nobody.
	Notifier Notifier
	// TimeZone is where the console shows times (admin.time_zone); nil
	// means ui.Zone.
	TimeZone *time.Location
	// ClientKeys fetches a portal's jwks_uri: once when it is registered
	// (clients.Registrar) and, cached, for the client page; nil: a
	// clientkeys.Fetcher with its default timeout.
	ClientKeys *clientkeys.Fetcher
	// SigningAlgorithms are the ID token signing algorithms the server
	// publishes keys for, which a client may choose among
	// (clients.Registrar.Algorithms); empty: RS256 alone.
	SigningAlgorithms []string
}

// Admin serves the console and the API.
type Admin struct {
	o  Options
	rd *renderer
}

// Protocol is the console's name with the login engine; the composition
// root registers it.
const Protocol = "admin"

// New parses the console's pages and registers the "admin" protocol with
// the login engine. A missing or broken page fails here, not in a request.
func New(o Options) (*Admin, error) {
	if o.MinLevel < assurance.Substantial {
		return nil, errors.New("admin: the console needs level 2 or more")
	}
	if o.IdleTimeout <= 0 || o.SensitiveFreshness <= 0 {
		return nil, errors.New("admin: idle timeout and sensitive freshness must be positive")
	}
	if o.Store == nil || o.Login == nil || o.Sessions == nil || o.Keys == nil || o.TOTP == nil || o.Audit == nil || o.Tokens == nil || o.Log == nil {
		return nil, errors.New("admin: every option is required")
	}
	rd, err := newRenderer(o.Renderer)
	if err != nil {
		return nil, err
	}
	if o.ClientKeys == nil {
		o.ClientKeys = clientkeys.NewFetcher(nil, nil)
	}
	a := &Admin{o: o, rd: rd}
	return a, nil
}

func (a *Admin) now() time.Time { return a.o.Sessions.Now() }

// Mount registers the console and the API.
func (a *Admin) Mount(mux *http.ServeMux) {
	forms := http.NewCrossOriginProtection()
	forms.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.rd.error(w, r, http.StatusForbidden, "admin_err_cross_origin", nil)
	}))
	get := func(pattern string, p perm, h pageFunc) {
		mux.Handle("GET "+pattern, a.page(p, h))
	}
	post := func(pattern string, p perm, sensitive bool, back func(*http.Request) string, h pageFunc) {
		mux.Handle("POST "+pattern, forms.Handler(a.action(p, sensitive, back, h)))
	}
	to := func(path string) func(*http.Request) string {
		return func(*http.Request) string { return path }
	}
	client := func(r *http.Request) string { return "/admin/clients/" + r.PathValue("id") }
	citizen := func(r *http.Request) string { return "/admin/citizens/" + r.PathValue("id") }

	mux.HandleFunc("GET /admin/assets/admin.css", serveCSS)
	get("/admin", permDashboard, a.dashboard)
	get("/admin/{$}", permDashboard, a.dashboard)
	mux.Handle("POST /admin/logout", forms.Handler(http.HandlerFunc(a.logout)))

	get("/admin/clients", permRPRead, a.listClients)
	get("/admin/clients/new", permRPWrite, a.newClient)
	post("/admin/clients", permRPWrite, false, to("/admin/clients/new"), a.createClient)
	get("/admin/clients/{id}", permRPRead, a.showClient)
	post("/admin/clients/{id}", permRPWrite, false, client, a.updateClient)
	post("/admin/clients/{id}/secret", permRPWrite, true, client, a.rotateSecret)
	post("/admin/clients/{id}/disable", permRPWrite, false, client, a.disableClient)
	post("/admin/clients/{id}/enable", permRPWrite, false, client, a.enableClient)
	post("/admin/clients/{id}/delete", permRPWrite, false, client, a.deleteClient)
	post("/admin/clients/{id}/api-access", permAdmins, true, client, a.apiAccess)

	sp := func(r *http.Request) string { return "/admin/sps/" + r.PathValue("ref") }
	get("/admin/sps", permRPRead, a.listSPs)
	get("/admin/sps/new", permRPWrite, a.newSP)
	post("/admin/sps", permRPWrite, false, to("/admin/sps/new"), a.createSP)
	get("/admin/sps/{ref}", permRPRead, a.showSP)
	post("/admin/sps/{ref}", permRPWrite, false, sp, a.updateSP)
	post("/admin/sps/{ref}/metadata", permRPWrite, false, sp, a.refetchSP)
	post("/admin/sps/{ref}/disable", permRPWrite, false, sp, a.disableSP)
	post("/admin/sps/{ref}/enable", permRPWrite, false, sp, a.enableSP)
	post("/admin/sps/{ref}/delete", permRPWrite, false, sp, a.deleteSP)

	get("/admin/keys", permKeysRead, a.listKeys)
	post("/admin/keys/rotate", permKeysWrite, true, to("/admin/keys"), a.rotateKey)
	post("/admin/keys/{kid}/retire", permKeysWrite, true, to("/admin/keys"), a.retireKey)

	get("/admin/citizens", permCitizensRead, a.listCitizens)
	get("/admin/citizens/{id}", permCitizensRead, a.showCitizen)
	post("/admin/citizens/{id}/disable", permCitizensWrite, false, citizen, a.disableCitizen)
	post("/admin/citizens/{id}/enable", permCitizensWrite, false, citizen, a.enableCitizen)
	post("/admin/citizens/{id}/sessions/end", permCitizensWrite, false, citizen, a.endSessions)
	post("/admin/citizens/{id}/totp/reset", permCitizensWrite, false, citizen, a.resetTOTP)
	post("/admin/citizens/{id}/webauthn/reset", permCitizensWrite, false, citizen, a.resetPasskeys)
	post("/admin/citizens/{id}/identity-level", permIdentityLevel, false, citizen, a.setIdentityLevel)
	post("/admin/citizens/{id}/takeover", permIdentityLevel, true, citizen, a.takeOverCitizen)
	get("/admin/citizens/{id}/ledger", permAuditRead, a.citizenLedger) // ledger.go

	get("/admin/audit", permAuditRead, a.listAudit)
	get("/admin/audit/export.csv", permAuditRead, a.exportAudit)
	get("/admin/audit/{seq}", permAuditRead, a.showAuditEvent)

	get("/admin/admins", permAdmins, a.listAdmins)
	post("/admin/admins/grant", permAdmins, true, to("/admin/admins"), a.grantRole)
	post("/admin/admins/revoke", permAdmins, true, to("/admin/admins"), a.revokeRole)

	a.mountAPI(mux)
}

// actor is the administrator (or API client) behind a request.
type actor struct {
	ref       string // "admin:<citizen id>" or "client:<client id>"
	citizenID string // console only
	name      string
	roles     []Role
	via       string // "console" or "api"
	lang      string
}

func (act *actor) can(p perm) bool { return allowed(act.roles, p) }

// pageFunc handles a console request for an authorised actor.
type pageFunc func(w http.ResponseWriter, r *http.Request, act *actor)

// page serves a GET page to an administrator allowed p.
func (a *Admin) page(p perm, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act := a.authenticate(w, r, r.URL.RequestURI(), false)
		if act == nil {
			return
		}
		if !act.can(p) {
			a.forbidden(w, r, act)
			return
		}
		h(w, r, act)
	})
}

// action serves a form POST to an administrator allowed p; a sensitive
// action first needs a fresh authentication. back is the page to return to
// after a login (a POST cannot be replayed through one).
func (a *Admin) action(p perm, sensitive bool, back func(*http.Request) string, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act := a.authenticate(w, r, back(r), false)
		if act == nil {
			return
		}
		if !act.can(p) {
			a.forbidden(w, r, act)
			return
		}
		if sensitive && a.authenticate(w, r, withQuery(back(r), "confirmed=1"), true) == nil {
			return
		}
		if err := r.ParseForm(); err != nil {
			a.rd.error(w, r, http.StatusBadRequest, "err_form", a.chrome(r, act))
			return
		}
		h(w, r, act)
	})
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// activity is the console's own record of an SSO session's last console
// request, for the console's idle timeout.
type activity struct {
	LastSeen time.Time `json:"last_seen"`
}

var activityKind = session.NewBucket[activity]("adm")

// authenticate returns the administrator behind the request, or answers
// (a login through the engine, or 403) and returns nil. The console needs
// the session at MinLevel; a console idle for longer than IdleTimeout
// (or never used in this session) needs an authentication within
// IdleTimeout; fresh needs one within SensitiveFreshness. back is where
// the login returns to.
func (a *Admin) authenticate(w http.ResponseWriter, r *http.Request, back string, fresh bool) *actor {
	ctx := r.Context()
	now := a.now()
	sess, err := a.o.Login.Current(r)
	if err != nil {
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_unavailable", nil)
		return nil
	}
	req := login.Request{Protocol: Protocol, RequestID: back, MinLevel: a.o.MinLevel, Since: now,
		ClientName: a.rd.t(server.Locale(r, nil), "admin_console")}
	live := false
	if sess != nil {
		var act activity
		err := activityKind.Load(ctx, a.o.Sessions, sess.SID, &act)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			a.o.Log.ErrorContext(ctx, "read console activity", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", nil)
			return nil
		}
		live = err == nil && now.Sub(act.LastSeen) < a.o.IdleTimeout
	}
	if !live {
		idle := a.o.IdleTimeout
		req.MaxAge = &idle
	}
	if fresh {
		f := a.o.SensitiveFreshness
		req.MaxAge = &f
	}
	if sess == nil || !a.o.Login.Evaluate(sess, req).Satisfied {
		a.o.Login.Begin(w, r, req)
		return nil
	}
	act, err := a.consoleActor(ctx, r, sess)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "load administrator", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", nil)
		return nil
	}
	if len(act.roles) == 0 {
		a.rd.error(w, r, http.StatusForbidden, "admin_err_not_admin", nil)
		return nil
	}
	if err := a.touch(ctx, sess); err != nil {
		a.o.Log.ErrorContext(ctx, "record console activity", "err", err)
	}
	return act
}

func (a *Admin) touch(ctx context.Context, sess *session.Session) error {
	return activityKind.Put(ctx, a.o.Sessions, sess.SID, activity{LastSeen: a.now()}, a.o.IdleTimeout)
}

func (a *Admin) consoleActor(ctx context.Context, r *http.Request, sess *session.Session) (*actor, error) {
	c, err := a.o.Store.CitizenByID(ctx, sess.CitizenID)
	if err != nil {
		return nil, err
	}
	names, err := a.o.Store.RolesOf(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	roles := parseRoles(names)
	if c.Disabled {
		roles = nil
	}
	return &actor{ref: "admin:" + c.ID, citizenID: c.ID, name: c.Name, roles: roles, via: "console",
		lang: server.Locale(r, nil)}, nil
}

// forbidden refuses act the request, and says so in the audit log.
func (a *Admin) forbidden(w http.ResponseWriter, r *http.Request, act *actor) {
	a.denied(r, act)
	a.rd.error(w, r, http.StatusForbidden, "admin_err_forbidden", a.chrome(r, act))
}

func (a *Admin) denied(r *http.Request, act *actor) {
	a.record(r.Context(), act, "admin.denied", r.Method+" "+r.URL.Path, "refused", nil, nil, nil)
}

// Complete implements login.Protocol: the administrator is back from the
// login engine.
func (a *Admin) Complete(w http.ResponseWriter, r *http.Request, returnTo string, done login.Completion) {
	ctx := r.Context()
	sess, res := done.Session, done.Result
	if !safeReturn(returnTo) {
		returnTo = "/admin"
	}
	act, err := a.consoleActor(ctx, r, sess)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "load administrator", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", nil)
		return
	}
	ev := audit.Event{Actor: act.ref, Action: "admin.login", Target: act.ref, ClientIP: server.ClientIP(ctx),
		Details: map[string]string{"level": strconv.Itoa(int(res.Level)), "roles": joinRoles(act.roles), "return": returnTo}}
	if len(act.roles) == 0 {
		ev.Outcome = "refused"
		ev.Details["reason"] = "no administrative role"
		a.o.Audit.Record(ctx, ev)
		a.rd.error(w, r, http.StatusForbidden, "admin_err_not_admin", nil)
		return
	}
	ev.Outcome = "success"
	a.o.Audit.Record(ctx, ev)
	if err := a.touch(ctx, sess); err != nil {
		a.o.Log.ErrorContext(ctx, "record console activity", "err", err)
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// Fail implements login.Protocol.
func (a *Admin) Fail(w http.ResponseWriter, r *http.Request, _ string, reason error) {
	if errors.Is(reason, login.ErrCancelled) {
		http.Redirect(w, r, "/", http.StatusSeeOther) // the citizen went back: home, not the console's login again
		return
	}
	if errors.Is(reason, login.ErrUnmet) {
		a.rd.error(w, r, http.StatusForbidden, "admin_err_level", nil)
		return
	}
	a.rd.error(w, r, http.StatusForbidden, "err_generic", nil)
}

// safeReturn admits console paths only.
func safeReturn(p string) bool {
	return (p == "/admin" || strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/admin?")) &&
		!strings.ContainsAny(p, "\\\r\n") && !strings.HasPrefix(p, "/admin/api/")
}

// logout ends the console session and the SSO session behind it.
func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if sess := a.o.Login.Peek(r); sess != nil {
		activityKind.Delete(ctx, a.o.Sessions, sess.SID)
	}
	sess := a.o.Login.Session(r)
	how := login.How{Reason: "console logout", W: w, R: r, Then: "/logged-out"}
	if sess != nil {
		a.o.Audit.Record(ctx, audit.Event{Actor: "admin:" + sess.CitizenID, Action: "admin.logout", Target: "admin:" + sess.CitizenID,
			Outcome: "success", ClientIP: server.ClientIP(ctx)})
		how.Actor = "admin:" + sess.CitizenID
	}
	http.Redirect(w, r, a.o.Login.End(ctx, sess, how), http.StatusSeeOther)
}

// record writes an audit event of a change: who (and with which roles,
// through what), the target, and the state before and after as JSON. The
// before and after values must hold no secrets.
func (a *Admin) record(ctx context.Context, act *actor, action, target, outcome string, details map[string]string, before, after any) {
	d := actorDetails(act)
	for k, v := range details {
		d[k] = v
	}
	if before != nil {
		d["before"] = jsonString(before)
	}
	if after != nil {
		d["after"] = jsonString(after)
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: act.ref, Action: action, Target: target, Outcome: outcome,
		ClientIP: server.ClientIP(ctx), Details: d})
}

// actorDetails says with which roles and through what an actor acted.
func actorDetails(act *actor) map[string]string {
	return map[string]string{"roles": joinRoles(act.roles), "via": act.via}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
