package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// OIDC clients: what an administrator may set on one, the rules it must
// follow, and the operations the console and the API share.

// clientInput is what an administrator sets on a client, from the
// console's form or the API's JSON: the clients package's Spec, whose
// rules the CLI follows too.
type clientInput = clients.Spec

// fieldError is one problem with an input (clients, service providers).
type fieldError = clients.FieldError

// clientJSON is a client as the API returns it and the audit log records
// it: never a secret or its hash.
type clientJSON struct {
	ID                       string          `json:"id"`
	Name                     string          `json:"name"`
	LogoURL                  string          `json:"logo_url"`
	RedirectURIs             []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string        `json:"post_logout_redirect_uris"`
	Public                   bool            `json:"public"`
	TokenEndpointAuthMethod  string          `json:"token_endpoint_auth_method"`
	GrantTypes               []string        `json:"grant_types"`
	Scopes                   []string        `json:"scopes"`
	SubjectType              string          `json:"subject_type"`
	SectorIdentifier         string          `json:"sector_identifier"`
	MinLevel                 int             `json:"min_level"`
	MaxAuthAgeSeconds        int64           `json:"max_auth_age_seconds"`
	AccessTokenLifetime      int64           `json:"access_token_lifetime_seconds"`
	RefreshTokenLifetime     int64           `json:"refresh_token_lifetime_seconds"`
	IDTokenLifetime          int64           `json:"id_token_lifetime_seconds"`
	LegalBasis               string          `json:"legal_basis"`
	BackchannelLogoutURI     string          `json:"backchannel_logout_uri"`
	BackchannelLogoutSession bool            `json:"backchannel_logout_session_required"`
	JWKS                     json.RawMessage `json:"jwks"`
	JWKSURI                  string          `json:"jwks_uri"`
	RequirePAR               bool            `json:"require_par"`
	RequireDPoP              bool            `json:"require_dpop"`
	Profile                  string          `json:"profile"`
	AccessTokenAudience      string          `json:"access_token_audience"`
	AccessTokenFormat        string          `json:"access_token_format"`
	IDTokenSignedResponseAlg string          `json:"id_token_signed_response_alg"`
	AdminScopes              []string        `json:"admin_scopes"`
	Disabled                 bool            `json:"disabled"`
	PreviousSecretValidUntil *time.Time      `json:"previous_secret_valid_until,omitempty"`
	CreatedAt                time.Time       `json:"created_at"`
	UpdatedAt                time.Time       `json:"updated_at"`
}

// rawJSON is a stored JSON text as JSON, null when empty.
func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func toJSON(c *store.Client, now time.Time) clientJSON {
	in := clients.SpecOf(c)
	j := clientJSON{ID: c.ID, Name: c.Name, LogoURL: c.LogoURL, RedirectURIs: list(c.RedirectURIs),
		PostLogoutRedirectURIs: list(c.PostLogoutRedirectURIs), Public: c.Public, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod,
		GrantTypes: grantTypes(c), Scopes: list(c.Scopes), SubjectType: in.SubjectType, SectorIdentifier: c.SectorIdentifier,
		MinLevel: in.MinLevel, MaxAuthAgeSeconds: int64(c.MaxAuthAge.Seconds()), AccessTokenLifetime: int64(c.AccessTokenLifetime.Seconds()),
		RefreshTokenLifetime: int64(c.RefreshTokenLifetime.Seconds()), IDTokenLifetime: int64(c.IDTokenLifetime.Seconds()),
		LegalBasis: c.LegalBasis, BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSession: c.BackchannelLogoutSessionRequired, JWKS: rawJSON(c.JWKS), JWKSURI: c.JWKSURI, RequirePAR: c.RequirePAR,
		RequireDPoP: c.RequireDPoP, Profile: c.Profile, AccessTokenAudience: c.AccessTokenAudience,
		AccessTokenFormat: in.AccessTokenFormat, IDTokenSignedResponseAlg: in.IDTokenSignedResponseAlg,
		AdminScopes: list(c.AdminScopes), Disabled: c.Disabled, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if c.PreviousSecretHash != "" && now.Before(c.PreviousSecretUntil) {
		u := c.PreviousSecretUntil.UTC()
		j.PreviousSecretValidUntil = &u
	}
	return j
}

// grantTypes mirrors what the OpenID Provider allows the client.
func grantTypes(c *store.Client) []string {
	g := []string{"authorization_code", "refresh_token"}
	if !c.Public && len(c.AdminScopes) > 0 {
		g = append(g, "client_credentials")
	}
	return g
}

// Errors of the client operations that callers turn into messages.
var (
	errInvalid     = errors.New("invalid input")
	errPublic      = errors.New("public clients have no secret")
	errNoOverlap   = errors.New("overlap out of range")
	errBadAPIScope = errors.New("unknown admin scope")
	errKeyed       = errors.New("a private_key_jwt client has no secret")
)

// registrar registers and edits clients with the console's key fetcher
// and the algorithms the server publishes keys for.
func (a *Admin) registrar() clients.Registrar {
	return clients.Registrar{Store: a.o.Store, Keys: a.o.ClientKeys, Algorithms: a.o.SigningAlgorithms}
}

// validationError carries field errors.
type validationError struct{ fields []fieldError }

func (e *validationError) Error() string { return "invalid input" }
func (e *validationError) Unwrap() error { return errInvalid }

// doCreateClient validates in and stores a new client in one write; it
// returns the secret to show once (empty for a public client).
func (a *Admin) doCreateClient(ctx context.Context, act *actor, in clientInput) (*store.Client, string, error) {
	in.Normalize()
	errs := a.registrar().Validate(in, nil)
	// Sectors are owned: clients in one sector receive the same subjects,
	// so only an owner puts a client in one (an rp-manager could otherwise
	// join another agency's sector and correlate its citizens).
	if in.SectorIdentifier != "" && !act.can(permAdmins) {
		errs = append(errs, fieldError{Field: "sector_identifier", Key: "admin_err_sector_owner",
			Detail: "only an owner assigns a sector: clients in one sector receive the same subjects"})
	}
	if len(errs) > 0 {
		return nil, "", &validationError{errs}
	}
	in.Secret = "" // generated, shown once
	c, secret, err := a.registrar().Create(ctx, in)
	var ferrs clients.Errors
	if errors.As(err, &ferrs) {
		return nil, "", &validationError{ferrs}
	} else if err != nil {
		return nil, "", err
	}
	a.record(ctx, act, "client.create", "client:"+c.ID, "success", nil, nil, toJSON(c, a.now()))
	return c, secret, nil
}

// doUpdateClient applies edit to the stored client's input and writes the
// result, validated, in one transaction.
// A non-nil disabled is set in the same write.
func (a *Admin) doUpdateClient(ctx context.Context, act *actor, id string, edit func(in *clientInput) error, disabled *bool) (*store.Client, error) {
	before, after, err := a.registrar().Update(ctx, id, edit, func(c *store.Client) error {
		if disabled != nil {
			c.Disabled = *disabled
		}
		return nil
	})
	var ferrs clients.Errors
	if errors.As(err, &ferrs) {
		return nil, &validationError{ferrs}
	} else if err != nil {
		return nil, err
	}
	now := a.now()
	a.record(ctx, act, "client.update", "client:"+id, "success", nil, toJSON(&before, now), toJSON(&after, now))
	return &after, nil
}

// doRotateSecret gives the client a new secret; the current one keeps
// working for overlap (none when 0). It returns the new secret, shown once.
func (a *Admin) doRotateSecret(ctx context.Context, act *actor, id string, overlap time.Duration) (string, time.Time, error) {
	if overlap < 0 || overlap > maxOverlap {
		return "", time.Time{}, errNoOverlap
	}
	secret := session.RandomToken(32)
	now := a.now()
	until := time.Time{}
	if overlap > 0 {
		until = now.Add(overlap)
	}
	var before, after clientJSON
	err := a.o.Store.UpdateClient(ctx, id, func(c *store.Client) error {
		if c.Public {
			return errPublic
		}
		if c.TokenEndpointAuthMethod == clients.AuthPrivateKeyJWT {
			return errKeyed
		}
		// A client with admin API scopes authenticates as an administrator:
		// whoever learns its secret holds its roles. Only an owner (who
		// grants API access) may give it a new one.
		if len(c.AdminScopes) > 0 && !act.can(permAdmins) {
			return errProtected
		}
		before = toJSON(c, now)
		c.PreviousSecretHash, c.PreviousSecretUntil = "", time.Time{}
		if overlap > 0 {
			c.PreviousSecretHash, c.PreviousSecretUntil = c.SecretHash, until
		}
		c.SecretHash = oidc.HashClientSecret(secret)
		after = toJSON(c, now)
		return nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	a.record(ctx, act, "client.secret_rotate", "client:"+id, "success",
		map[string]string{"overlap": overlap.String(), "previous_valid_until": utcTime(until)}, before, after)
	return secret, until, nil
}

// maxOverlap bounds a rotation's overlap (config.MaxSecretOverlap).
const maxOverlap = 30 * 24 * time.Hour

func (a *Admin) doSetClientDisabled(ctx context.Context, act *actor, id string, disabled bool) error {
	var before, after clientJSON
	err := a.o.Store.UpdateClient(ctx, id, func(c *store.Client) error {
		before = toJSON(c, a.now())
		c.Disabled = disabled
		after = toJSON(c, a.now())
		return nil
	})
	if err != nil {
		return err
	}
	action := "client.enable"
	if disabled {
		action = "client.disable"
	}
	a.record(ctx, act, action, "client:"+id, "success", nil, before, after)
	return nil
}

func (a *Admin) doDeleteClient(ctx context.Context, act *actor, id string) error {
	c, err := a.o.Store.ClientByID(ctx, id)
	if err != nil {
		return err
	}
	if err := a.o.Store.DeleteClient(ctx, id); err != nil {
		return err
	}
	a.record(ctx, act, "client.delete", "client:"+id, "success", nil, toJSON(c, a.now()), nil)
	return nil
}

// doSetAPIAccess sets the admin API scopes of a confidential client.
func (a *Admin) doSetAPIAccess(ctx context.Context, act *actor, id string, scopes []string) error {
	for _, s := range scopes {
		if _, ok := roleOfScope(s); !ok {
			return errBadAPIScope
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	var before, after clientJSON
	err := a.o.Store.UpdateClient(ctx, id, func(c *store.Client) error {
		if c.Public && len(scopes) > 0 {
			return errPublic
		}
		before = toJSON(c, a.now())
		c.AdminScopes = scopes
		after = toJSON(c, a.now())
		return nil
	})
	if err != nil {
		return err
	}
	a.record(ctx, act, "client.api_access", "client:"+id, "success", nil, before, after)
	return nil
}

// Console pages.

const clientsPerPage = 20

type clientRow struct {
	ID, Name, Type, Status string
	MinLevel               int
	Disabled               bool
	RedirectURIs           int
}

// clientsView is the view model of admin_clients.html.
type clientsView struct {
	*chrome
	Query    string
	Clients  []clientRow
	Next     string // link to the next page, or ""
	CanWrite bool
	Total    int
}

func (a *Admin) listClients(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	all, err := a.o.Store.ListClients(ctx)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "list clients", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	after := r.URL.Query().Get("after")
	matching := filterClients(all, q)
	page, next := pageClients(matching, after, clientsPerPage)
	v := clientsView{chrome: a.chrome(r, act), Query: q, CanWrite: act.can(permRPWrite), Total: len(matching)}
	for _, c := range page {
		v.Clients = append(v.Clients, a.clientRow(act.lang, &c))
	}
	if next != "" {
		v.Next = "/admin/clients?" + url.Values{"q": {q}, "after": {next}}.Encode()
	}
	a.rd.render(w, r, http.StatusOK, "admin_clients", "admin_clients_title", v)
}

// filterClients keeps clients whose ID or name contains q, ignoring case.
func filterClients(all []store.Client, q string) []store.Client {
	if q == "" {
		return all
	}
	lq := strings.ToLower(q)
	var out []store.Client
	for _, c := range all {
		if strings.Contains(strings.ToLower(c.ID), lq) || strings.Contains(strings.ToLower(c.Name), lq) {
			out = append(out, c)
		}
	}
	return out
}

// pageClients returns up to n clients after the ID after (the list is
// ordered by ID) and the cursor of the next page ("" on the last).
func pageClients(all []store.Client, after string, n int) ([]store.Client, string) {
	i, _ := slices.BinarySearchFunc(all, after, func(c store.Client, id string) int { return strings.Compare(c.ID, id) })
	for i < len(all) && all[i].ID <= after {
		i++
	}
	end := min(i+n, len(all))
	if end < len(all) {
		return all[i:end], all[end-1].ID
	}
	return all[i:end], ""
}

func (a *Admin) clientRow(lang string, c *store.Client) clientRow {
	row := clientRow{ID: c.ID, Name: c.Name, MinLevel: max(c.MinLevel, 1), Disabled: c.Disabled, RedirectURIs: len(c.RedirectURIs),
		Type: a.rd.t(lang, "admin_client_confidential"), Status: a.rd.t(lang, "admin_status_active")}
	if c.Public {
		row.Type = a.rd.t(lang, "admin_client_public")
	}
	if c.Disabled {
		row.Status = a.rd.t(lang, "admin_status_disabled")
	}
	return row
}

func (a *Admin) newClient(w http.ResponseWriter, r *http.Request, act *actor) {
	in := clientInput{}
	in.Normalize()
	a.rd.render(w, r, http.StatusOK, "admin_client", "admin_client_new_title", clientView{chrome: a.chrome(r, act), New: true,
		Action: "/admin/clients", Form: formOf(in), CanWrite: true, Algorithms: clients.Algorithms(a.o.SigningAlgorithms)})
}

func (a *Admin) createClient(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	in, form, errs := parseClientForm(r, nil)
	errs = a.withRuleErrors(errs, in, nil)
	if len(errs) == 0 {
		c, secret, err := a.doCreateClient(ctx, act, in)
		var ve *validationError
		switch {
		case err == nil && c.TokenEndpointAuthMethod == clients.AuthPrivateKeyJWT:
			http.Redirect(w, r, "/admin/clients/"+c.ID+"?done=admin_msg_created_keys", http.StatusSeeOther)
			return
		case err == nil:
			a.showSecret(w, r, act, c, secret, time.Time{}, true)
			return
		case errors.As(err, &ve):
			errs = ve.fields
		case errors.Is(err, store.ErrConflict):
			errs = []fieldError{{Field: "id", Key: "admin_err_client_exists"}}
		default:
			a.o.Log.ErrorContext(ctx, "create client", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
			return
		}
	}
	v := clientView{chrome: a.chrome(r, act), New: true, Action: "/admin/clients", Form: form, CanWrite: true,
		Algorithms: clients.Algorithms(a.o.SigningAlgorithms)}
	v.Errors = a.clientErrors(act.lang, errs, &v.Form)
	a.rd.render(w, r, http.StatusUnprocessableEntity, "admin_client", "admin_client_new_title", v)
}

// secretView is the view model of admin_secret.html: a secret, once.
type secretView struct {
	*chrome
	ClientID      string
	Name          string
	Secret        string
	Created       bool
	PreviousUntil string
}

func (a *Admin) showSecret(w http.ResponseWriter, r *http.Request, act *actor, c *store.Client, secret string, until time.Time, created bool) {
	v := secretView{chrome: a.chrome(r, act), ClientID: c.ID, Name: c.Name, Secret: secret, Created: created, PreviousUntil: a.fmtTime(until)}
	a.rd.render(w, r, http.StatusOK, "admin_secret", "admin_secret_title", v)
}

// loadClient finds the client of the request's {id}, or answers 404.
func (a *Admin) loadClient(w http.ResponseWriter, r *http.Request, act *actor) *store.Client {
	c, err := a.o.Store.ClientByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_client", a.chrome(r, act))
		return nil
	} else if err != nil {
		a.o.Log.ErrorContext(r.Context(), "load client", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return nil
	}
	return c
}

func (a *Admin) clientPage(r *http.Request, act *actor, c *store.Client, form clientForm, errs formErrors) clientView {
	lang := act.lang
	row := a.clientRow(lang, c)
	d := &clientDetail{ID: c.ID, Name: c.Name, Type: row.Type, Status: row.Status, Disabled: c.Disabled, Public: c.Public,
		GrantTypes: strings.Join(grantTypes(c), ", "), CreatedAt: a.fmtTime(c.CreatedAt), UpdatedAt: a.fmtTime(c.UpdatedAt),
		AccessTokenFormat: cmp.Or(c.AccessTokenFormat, clients.AccessTokenJWT), IDTokenAlg: c.IDTokenSignedResponseAlg}
	if c.PreviousSecretHash != "" && a.now().Before(c.PreviousSecretUntil) {
		d.PreviousUntil = a.fmtTime(c.PreviousSecretUntil)
	}
	for _, o := range []time.Duration{0, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		label := a.rd.t(lang, "admin_overlap_none")
		if o > 0 {
			label = a.rd.Duration(lang, o)
		}
		d.Overlaps = append(d.Overlaps, choice{Value: fmtDur(o), Label: label, Checked: o == a.o.SecretOverlap})
	}
	if d.Overlaps[0].Value == "" {
		d.Overlaps[0].Value = "0"
	}
	for _, role := range Roles {
		d.APIScopes = append(d.APIScopes, choice{Value: role.Scope(), Label: role.Scope(), Checked: slices.Contains(c.AdminScopes, role.Scope())})
	}
	if a.o.Outbox != nil {
		msgs, err := a.o.Outbox.ListOutbox(r.Context(), oidc.KindLogout, c.ID, 20)
		if err != nil {
			a.o.Log.ErrorContext(r.Context(), "list back-channel logouts", "err", err)
		}
		for _, m := range msgs {
			ld := logoutDelivery{Created: a.fmtTime(m.CreatedAt), Status: a.rd.t(lang, "admin_delivery_"+m.Status),
				Attempts: m.Attempts, LastError: m.LastError, Failed: m.Status == store.OutboxFailed}
			if !m.DoneAt.IsZero() {
				ld.Done = a.fmtTime(m.DoneAt)
			}
			d.Logouts = append(d.Logouts, ld)
		}
	}
	d.Keyed = c.TokenEndpointAuthMethod == clients.AuthPrivateKeyJWT
	a.portalKeys(r.Context(), c, d)
	return clientView{chrome: a.chrome(r, act), Action: "/admin/clients/" + c.ID, Form: form, Errors: errs,
		CanWrite: act.can(permRPWrite), CanAdmins: act.can(permAdmins), Client: d, Algorithms: clients.Algorithms(a.o.SigningAlgorithms)}
}

// keysPageTimeout bounds fetching a portal's jwks_uri for its page.
const keysPageTimeout = 3 * time.Second

// portalKeys lists the client's keys on its page: the stored JWKS, or
// the jwks_uri's through the fetcher's cache.
func (a *Admin) portalKeys(ctx context.Context, c *store.Client, d *clientDetail) {
	var infos []clients.KeyInfo
	var err error
	switch {
	case c.JWKS != "":
		infos, err = clients.StoredKeys(c.JWKS)
	case c.JWKSURI != "":
		d.KeysFrom = c.JWKSURI
		ctx, cancel := context.WithTimeout(ctx, keysPageTimeout)
		defer cancel()
		var keys []jose.JSONWebKey
		if keys, err = a.o.ClientKeys.Keys(ctx, c, ""); err == nil {
			infos = clients.DescribeKeys(&jose.JSONWebKeySet{Keys: keys})
		}
	}
	if err != nil {
		a.o.Log.WarnContext(ctx, "portal keys", "client", c.ID, "err", err)
		d.KeysFailed = true
		return
	}
	for _, k := range infos {
		row := portalKeyRow{ID: k.ID, Algorithms: strings.Join(k.Algorithms, ", "), Type: k.Type}
		if !k.NotAfter.IsZero() {
			row.Expires = a.fmtTime(k.NotAfter)
		}
		d.Keys = append(d.Keys, row)
	}
}

func (a *Admin) showClient(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadClient(w, r, act)
	if c == nil {
		return
	}
	a.rd.render(w, r, http.StatusOK, "admin_client", "admin_client_title", a.clientPage(r, act, c, formOf(clients.SpecOf(c)), nil))
}

func (a *Admin) updateClient(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	c := a.loadClient(w, r, act)
	if c == nil {
		return
	}
	in, form, errs := parseClientForm(r, c)
	errs = a.withRuleErrors(errs, in, c)
	if len(errs) == 0 {
		_, err := a.doUpdateClient(ctx, act, c.ID, func(cur *clientInput) error { *cur = in; return nil }, nil)
		var ve *validationError
		switch {
		case err == nil:
			http.Redirect(w, r, "/admin/clients/"+c.ID+"?done=admin_msg_saved", http.StatusSeeOther)
			return
		case errors.As(err, &ve):
			errs = ve.fields
		case errors.Is(err, store.ErrNotFound):
			a.rd.error(w, r, http.StatusNotFound, "admin_err_no_client", a.chrome(r, act))
			return
		default:
			a.o.Log.ErrorContext(ctx, "update client", "err", err)
			a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
			return
		}
	}
	v := a.clientPage(r, act, c, form, nil)
	v.Errors = a.clientErrors(act.lang, errs, &v.Form)
	a.rd.render(w, r, http.StatusUnprocessableEntity, "admin_client", "admin_client_title", v)
}

func (a *Admin) rotateSecret(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	c := a.loadClient(w, r, act)
	if c == nil {
		return
	}
	overlap, err := time.ParseDuration(cmp.Or(r.PostForm.Get("overlap"), "0s"))
	if err != nil {
		overlap = -1
	}
	secret, until, err := a.doRotateSecret(ctx, act, c.ID, overlap)
	switch {
	case err == nil:
		a.showSecret(w, r, act, c, secret, until, false)
	case errors.Is(err, errPublic):
		http.Redirect(w, r, "/admin/clients/"+c.ID+"?err=admin_err_public_secret", http.StatusSeeOther)
	case errors.Is(err, errKeyed):
		http.Redirect(w, r, "/admin/clients/"+c.ID+"?err=admin_err_secret_keys", http.StatusSeeOther)
	case errors.Is(err, errNoOverlap):
		http.Redirect(w, r, "/admin/clients/"+c.ID+"?err=admin_err_overlap", http.StatusSeeOther)
	case errors.Is(err, errProtected):
		a.forbidden(w, r, act)
	default:
		a.o.Log.ErrorContext(ctx, "rotate client secret", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}

func (a *Admin) disableClient(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadClient(w, r, act)
	if c == nil || !a.confirmed(w, r, act, "admin_confirm_client_disable", c.Name+" ("+c.ID+")", "/admin/clients/"+c.ID) {
		return
	}
	a.clientDone(w, r, act, c.ID, a.doSetClientDisabled(r.Context(), act, c.ID, true), "admin_msg_disabled")
}

func (a *Admin) enableClient(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadClient(w, r, act)
	if c == nil {
		return
	}
	a.clientDone(w, r, act, c.ID, a.doSetClientDisabled(r.Context(), act, c.ID, false), "admin_msg_enabled")
}

func (a *Admin) deleteClient(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadClient(w, r, act)
	if c == nil || !a.confirmed(w, r, act, "admin_confirm_client_delete", c.Name+" ("+c.ID+")", "/admin/clients/"+c.ID) {
		return
	}
	if err := a.doDeleteClient(r.Context(), act, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.o.Log.ErrorContext(r.Context(), "delete client", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	http.Redirect(w, r, "/admin/clients?done=admin_msg_deleted", http.StatusSeeOther)
}

func (a *Admin) apiAccess(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadClient(w, r, act)
	if c == nil {
		return
	}
	err := a.doSetAPIAccess(r.Context(), act, c.ID, r.PostForm["scope"])
	switch {
	case errors.Is(err, errPublic):
		http.Redirect(w, r, "/admin/clients/"+c.ID+"?err=admin_err_public_api", http.StatusSeeOther)
	case errors.Is(err, errBadAPIScope):
		a.rd.error(w, r, http.StatusBadRequest, "err_form", a.chrome(r, act))
	default:
		a.clientDone(w, r, act, c.ID, err, "admin_msg_saved")
	}
}

func (a *Admin) clientDone(w http.ResponseWriter, r *http.Request, act *actor, id string, err error, msg string) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/clients/"+id+"?done="+msg, http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_client", a.chrome(r, act))
	default:
		a.o.Log.ErrorContext(r.Context(), "change client", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}
