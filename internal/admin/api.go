package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/store"
)

// The admin API: JSON over the same operations as the console, for
// clients holding admin scopes ("admin:<role>", granted by an owner) and
// presenting an access token from CitizenID's client_credentials grant.
// Errors are RFC 9457 problem details; lists page with opaque cursors.
// openapi.json describes exactly the routes of apiRoutes (a test checks).

const (
	apiPrefix   = "/admin/api/v1"
	maxBody     = 1 << 20 // SAML metadata; the server caps every body at 1 MiB too
	defaultPage = 20
	maxPage     = 100
)

// apiFunc handles an authorised API call.
type apiFunc func(w http.ResponseWriter, r *http.Request, act *actor)

type apiRoute struct {
	method, path string
	p            perm
	h            apiFunc
}

func (a *Admin) apiRoutes() []apiRoute {
	return []apiRoute{
		{"GET", apiPrefix + "/clients", permRPRead, a.apiListClients},
		{"POST", apiPrefix + "/clients", permRPWrite, a.apiCreateClient},
		{"GET", apiPrefix + "/clients/{id}", permRPRead, a.apiGetClient},
		{"PATCH", apiPrefix + "/clients/{id}", permRPWrite, a.apiPatchClient},
		{"DELETE", apiPrefix + "/clients/{id}", permRPWrite, a.apiDeleteClient},
		{"POST", apiPrefix + "/clients/{id}/secret", permRPWrite, a.apiRotateSecret},
		{"GET", apiPrefix + "/sps", permRPRead, a.apiListSPs},
		{"POST", apiPrefix + "/sps", permRPWrite, a.apiCreateSP},
		{"GET", apiPrefix + "/sps/{ref}", permRPRead, a.apiGetSP},
		{"PATCH", apiPrefix + "/sps/{ref}", permRPWrite, a.apiPatchSP},
		{"DELETE", apiPrefix + "/sps/{ref}", permRPWrite, a.apiDeleteSP},
		{"POST", apiPrefix + "/sps/{ref}/metadata", permRPWrite, a.apiSPMetadata},
		{"GET", apiPrefix + "/keys", permKeysRead, a.apiListKeys},
		{"POST", apiPrefix + "/keys/rotate", permKeysWrite, a.apiRotateKey},
		{"POST", apiPrefix + "/keys/{kid}/retire", permKeysWrite, a.apiRetireKey},
		{"GET", apiPrefix + "/citizens", permCitizensRead, a.apiListCitizens},
		{"GET", apiPrefix + "/citizens/{id}", permCitizensRead, a.apiGetCitizen},
		{"POST", apiPrefix + "/citizens/{id}/disable", permCitizensWrite, a.apiDisableCitizen},
		{"POST", apiPrefix + "/citizens/{id}/enable", permCitizensWrite, a.apiEnableCitizen},
		{"DELETE", apiPrefix + "/citizens/{id}/sessions", permCitizensWrite, a.apiEndSessions},
		{"POST", apiPrefix + "/citizens/{id}/totp/reset", permCitizensWrite, a.apiResetTOTP},
		{"POST", apiPrefix + "/citizens/{id}/webauthn/reset", permCitizensWrite, a.apiResetPasskeys},
		{"PUT", apiPrefix + "/citizens/{id}/identity-level", permIdentityLevel, a.apiSetIdentityLevel},
	}
}

func (a *Admin) mountAPI(mux *http.ServeMux) {
	api := http.NewServeMux()
	for _, rt := range a.apiRoutes() {
		api.Handle(rt.method+" "+rt.path, a.api(rt.p, rt.h))
	}
	api.HandleFunc("GET /admin/api/openapi.json", serveOpenAPI)
	mux.Handle("/admin/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := api.Handler(r); pattern != "" {
			api.ServeHTTP(w, r)
			return
		}
		// No route: the mux says whether the path exists with other methods.
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, r)
		if rec.Code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.Header().Get("Allow"))
			writeProblem(w, r, problem{Status: http.StatusMethodNotAllowed})
			return
		}
		writeProblem(w, r, problem{Status: http.StatusNotFound, Detail: "no such operation"})
	}))
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	Errors    []fieldError `json:"errors,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

// Problem types beyond the plain HTTP status ("about:blank").
const (
	problemValidation = "urn:citizenid:problem:validation"
	problemConflict   = "urn:citizenid:problem:conflict"
)

func writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = r.URL.Path
	p.RequestID = server.RequestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// api authenticates the caller's bearer token and checks permission p.
func (a *Admin) api(p perm, h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="citizenid-admin"`)
			writeProblem(w, r, problem{Status: http.StatusUnauthorized, Detail: "a bearer access token is required"})
			return
		}
		tok, err := a.o.Tokens.VerifyClientToken(ctx, strings.TrimSpace(raw))
		if err != nil {
			if !errors.Is(err, oidc.ErrNotClientToken) {
				a.o.Log.ErrorContext(ctx, "verify admin api token", "err", err)
				writeProblem(w, r, problem{Status: http.StatusServiceUnavailable})
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="citizenid-admin", error="invalid_token"`)
			writeProblem(w, r, problem{Status: http.StatusUnauthorized, Detail: "the access token is not valid"})
			return
		}
		c, err := a.o.Store.ClientByID(ctx, tok.ClientID)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="citizenid-admin", error="invalid_token"`)
			writeProblem(w, r, problem{Status: http.StatusUnauthorized, Detail: "the access token is not valid"})
			return
		}
		// The scopes still granted now count, not those at issue.
		var roles []Role
		for _, s := range tok.Scopes {
			if role, ok := roleOfScope(s); ok && slices.Contains(c.AdminScopes, s) && !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
		act := &actor{ref: "client:" + c.ID, name: c.Name, roles: parseRoles(rolesOf(roles)), via: "api", lang: "en"}
		if !act.can(p) {
			a.denied(r, act)
			w.Header().Set("WWW-Authenticate", `Bearer realm="citizenid-admin", error="insufficient_scope"`)
			writeProblem(w, r, problem{Status: http.StatusForbidden, Detail: "the token's scopes do not allow this operation"})
			return
		}
		h(w, r, act)
	})
}

func rolesOf(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// decode reads a JSON body into v: application/json, at most maxBody
// bytes, one object, no unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" && ct != "application/merge-patch+json" {
		writeProblem(w, r, problem{Status: http.StatusUnsupportedMediaType, Detail: "send application/json"})
		return false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeProblem(w, r, problem{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("at most %d bytes", maxBody)})
		return false
	}
	if err := strictJSON(b, v); err != nil {
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()})
		return false
	}
	return true
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

// page is one page of a list.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// paging reads ?cursor= (opaque: base64url of the last key seen) and
// ?limit= (1 to 100, default 20).
func paging(w http.ResponseWriter, r *http.Request) (after string, limit int, ok bool) {
	q := r.URL.Query()
	limit = defaultPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			writeProblem(w, r, problem{Status: http.StatusBadRequest, Detail: fmt.Sprintf("limit: 1 to %d", maxPage)})
			return "", 0, false
		}
		limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 || len(b) > 256 {
			writeProblem(w, r, problem{Status: http.StatusBadRequest, Detail: "cursor: not one this API returned"})
			return "", 0, false
		}
		after = string(b)
	}
	return after, limit, true
}

func cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// storeError answers the errors the operations share.
func (a *Admin) storeError(w http.ResponseWriter, r *http.Request, err error, what string) {
	var ve *validationError
	switch {
	case errors.As(err, &ve):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Detail: "the request has invalid fields; nothing was changed", Errors: ve.fields})
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, problem{Status: http.StatusNotFound, Detail: "no such " + what})
	case errors.Is(err, store.ErrConflict):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "a " + what + " with this identifier exists"})
	case errors.Is(err, errProtected):
		writeProblem(w, r, problem{Status: http.StatusForbidden, Detail: errProtected.Error()})
	case errors.Is(err, errSelf):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: errSelf.Error()})
	default:
		a.o.Log.ErrorContext(r.Context(), "admin api", "what", what, "err", err)
		writeProblem(w, r, problem{Status: http.StatusServiceUnavailable})
	}
}

// Clients.

// clientBody is the writable part of a client in the API.
type clientBody struct {
	ID                          string   `json:"id"`
	Name                        string   `json:"name"`
	LogoURL                     string   `json:"logo_url"`
	RedirectURIs                []string `json:"redirect_uris"`
	PostLogoutRedirectURIs      []string `json:"post_logout_redirect_uris"`
	Public                      bool     `json:"public"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	Scopes                      []string `json:"scopes"`
	SubjectType                 string   `json:"subject_type"`
	SectorIdentifier            string   `json:"sector_identifier"`
	MinLevel                    int      `json:"min_level"`
	MaxAuthAgeSeconds           int64    `json:"max_auth_age_seconds"`
	AccessTokenLifetimeSeconds  int64    `json:"access_token_lifetime_seconds"`
	RefreshTokenLifetimeSeconds int64    `json:"refresh_token_lifetime_seconds"`
	IDTokenLifetimeSeconds      int64    `json:"id_token_lifetime_seconds"`
}

// clientPatch is a JSON merge patch (RFC 7396) of a client: the body's
// fields plus disabled.
type clientPatch struct {
	clientBody
	Disabled *bool `json:"disabled"`
}

// seconds turns API seconds into a duration; out of any sane range it is
// -1, which validation refuses.
func seconds(s int64) time.Duration {
	if s < 0 || s > 10*365*24*3600 {
		return -1
	}
	return time.Duration(s) * time.Second
}

func (b clientBody) input() clientInput {
	return clientInput{ID: b.ID, Name: b.Name, LogoURL: b.LogoURL, RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs,
		Public: b.Public, TokenEndpointAuthMethod: b.TokenEndpointAuthMethod, Scopes: b.Scopes, SubjectType: b.SubjectType,
		SectorIdentifier: b.SectorIdentifier, MinLevel: b.MinLevel, MaxAuthAge: seconds(b.MaxAuthAgeSeconds),
		AccessTokenLifetime: seconds(b.AccessTokenLifetimeSeconds), RefreshTokenLifetime: seconds(b.RefreshTokenLifetimeSeconds),
		IDTokenLifetime: seconds(b.IDTokenLifetimeSeconds)}
}

func bodyOf(in clientInput) clientBody {
	return clientBody{ID: in.ID, Name: in.Name, LogoURL: in.LogoURL, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		Public: in.Public, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod, Scopes: in.Scopes, SubjectType: in.SubjectType,
		SectorIdentifier: in.SectorIdentifier, MinLevel: in.MinLevel, MaxAuthAgeSeconds: int64(in.MaxAuthAge.Seconds()),
		AccessTokenLifetimeSeconds: int64(in.AccessTokenLifetime.Seconds()), RefreshTokenLifetimeSeconds: int64(in.RefreshTokenLifetime.Seconds()),
		IDTokenLifetimeSeconds: int64(in.IDTokenLifetime.Seconds())}
}

func (a *Admin) apiListClients(w http.ResponseWriter, r *http.Request, act *actor) {
	after, limit, ok := paging(w, r)
	if !ok {
		return
	}
	all, err := a.o.Store.ListClients(r.Context())
	if err != nil {
		a.storeError(w, r, err, "client")
		return
	}
	items, next := pageClients(filterClients(all, strings.TrimSpace(r.URL.Query().Get("q"))), after, limit)
	out := page[clientJSON]{Items: []clientJSON{}}
	now := a.now()
	for i := range items {
		out.Items = append(out.Items, toJSON(&items[i], now))
	}
	if next != "" {
		out.NextCursor = cursor(next)
	}
	writeJSON(w, http.StatusOK, out)
}

// createdClient is the answer to a registration: the secret, once.
type createdClient struct {
	Client       clientJSON `json:"client"`
	ClientSecret string     `json:"client_secret,omitempty"`
}

func (a *Admin) apiCreateClient(w http.ResponseWriter, r *http.Request, act *actor) {
	var b clientBody
	if !decode(w, r, &b) {
		return
	}
	c, secret, err := a.doCreateClient(r.Context(), act, b.input())
	if err != nil {
		a.storeError(w, r, err, "client")
		return
	}
	w.Header().Set("Location", apiPrefix+"/clients/"+c.ID)
	writeJSON(w, http.StatusCreated, createdClient{Client: toJSON(c, a.now()), ClientSecret: secret})
}

func (a *Admin) apiGetClient(w http.ResponseWriter, r *http.Request, act *actor) {
	c, err := a.o.Store.ClientByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err, "client")
		return
	}
	writeJSON(w, http.StatusOK, toJSON(c, a.now()))
}

func (a *Admin) apiPatchClient(w http.ResponseWriter, r *http.Request, act *actor) {
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	// Read disabled first; the rest is merged onto the stored client
	// inside the update's transaction.
	var probe clientPatch
	if err := strictJSON(raw, &probe); err != nil {
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()})
		return
	}
	id := r.PathValue("id")
	c, err := a.doUpdateClient(r.Context(), act, id, func(in *clientInput) error {
		p := clientPatch{clientBody: bodyOf(*in)}
		if err := strictJSON(raw, &p); err != nil {
			return &validationError{[]fieldError{{Detail: err.Error()}}}
		}
		if p.ID != id {
			return &validationError{[]fieldError{{Field: "id", Key: "admin_err_immutable", Detail: "id cannot change"}}}
		}
		*in = p.input()
		return nil
	}, probe.Disabled)
	if err != nil {
		a.storeError(w, r, err, "client")
		return
	}
	writeJSON(w, http.StatusOK, toJSON(c, a.now()))
}

func (a *Admin) apiDeleteClient(w http.ResponseWriter, r *http.Request, act *actor) {
	if err := a.doDeleteClient(r.Context(), act, r.PathValue("id")); err != nil {
		a.storeError(w, r, err, "client")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type rotateBody struct {
	OverlapSeconds *int64 `json:"overlap_seconds"`
}

type rotatedSecret struct {
	ClientID                 string     `json:"client_id"`
	ClientSecret             string     `json:"client_secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until,omitempty"`
}

func (a *Admin) apiRotateSecret(w http.ResponseWriter, r *http.Request, act *actor) {
	var b rotateBody
	if r.ContentLength != 0 && !decode(w, r, &b) {
		return
	}
	overlap := a.o.SecretOverlap
	if b.OverlapSeconds != nil {
		overlap = seconds(*b.OverlapSeconds)
	}
	id := r.PathValue("id")
	secret, until, err := a.doRotateSecret(r.Context(), act, id, overlap)
	switch {
	case errors.Is(err, errPublic):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "a public client has no secret"})
	case errors.Is(err, errNoOverlap):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Errors: []fieldError{{Field: "overlap_seconds", Detail: fmt.Sprintf("0 to %d", int64(maxOverlap.Seconds()))}}})
	case err != nil:
		a.storeError(w, r, err, "client")
	default:
		writeJSON(w, http.StatusOK, rotatedSecret{ClientID: id, ClientSecret: secret, PreviousSecretValidUntil: optTime(until)})
	}
}

// Keys.

func (a *Admin) apiListKeys(w http.ResponseWriter, r *http.Request, act *actor) {
	list, err := a.o.Keys.List(r.Context())
	if err != nil {
		a.storeError(w, r, err, "key")
		return
	}
	writeJSON(w, http.StatusOK, page[keyJSON]{Items: keysJSON(list, a.now())})
}

type rotatedKeys struct {
	Active string    `json:"active"`
	Keys   []keyJSON `json:"keys"`
}

func (a *Admin) apiRotateKey(w http.ResponseWriter, r *http.Request, act *actor) {
	kid, err := a.doRotateKey(r.Context(), act)
	if err != nil {
		a.storeError(w, r, err, "key")
		return
	}
	list, err := a.o.Keys.List(r.Context())
	if err != nil {
		a.storeError(w, r, err, "key")
		return
	}
	writeJSON(w, http.StatusOK, rotatedKeys{Active: kid, Keys: keysJSON(list, a.now())})
}

func (a *Admin) apiRetireKey(w http.ResponseWriter, r *http.Request, act *actor) {
	err := a.doRetireKey(r.Context(), act, r.PathValue("kid"))
	switch {
	case errors.Is(err, keys.ErrActiveKey):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "the active key cannot be retired; rotate first"})
	case errors.Is(err, keys.ErrLastNextKey):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "the only next key cannot be retired"})
	case err != nil:
		a.storeError(w, r, err, "key")
	default:
		a.apiListKeys(w, r, act)
	}
}

// Citizens.

func (a *Admin) apiListCitizens(w http.ResponseWriter, r *http.Request, act *actor) {
	after, limit, ok := paging(w, r)
	if !ok {
		return
	}
	found, err := a.o.Store.SearchCitizens(r.Context(), strings.TrimSpace(r.URL.Query().Get("q")), after, limit+1)
	if err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	out := page[citizenJSON]{Items: []citizenJSON{}}
	if len(found) > limit {
		found = found[:limit]
		out.NextCursor = cursor(found[len(found)-1].Number)
	}
	for _, c := range found {
		out.Items = append(out.Items, citizenJSON{ID: c.ID, Number: c.Number, Name: c.Name, IdentityLevel: max(c.IdentityLevel, 1),
			Disabled: c.Disabled, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) apiGetCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	c, err := a.o.Store.CitizenByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	facts, err := a.citizenFacts(r.Context(), c)
	if err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	writeJSON(w, http.StatusOK, facts)
}

func (a *Admin) apiDisableCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	if err := a.doSetCitizenDisabled(r.Context(), act, r.PathValue("id"), true); err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	a.apiGetCitizen(w, r, act)
}

func (a *Admin) apiEnableCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	if err := a.doSetCitizenDisabled(r.Context(), act, r.PathValue("id"), false); err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	a.apiGetCitizen(w, r, act)
}

type endedSessions struct {
	Ended int `json:"ended"`
}

func (a *Admin) apiEndSessions(w http.ResponseWriter, r *http.Request, act *actor) {
	n, err := a.doEndSessions(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err, "citizen")
		return
	}
	writeJSON(w, http.StatusOK, endedSessions{Ended: n})
}

type resetBody struct {
	Reason string `json:"reason"`
}

func (a *Admin) apiResetTOTP(w http.ResponseWriter, r *http.Request, act *actor) {
	var b resetBody
	if !decode(w, r, &b) {
		return
	}
	err := a.doResetTOTP(r.Context(), act, r.PathValue("id"), b.Reason)
	switch {
	case errors.Is(err, errReason):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Errors: []fieldError{{Field: "reason", Detail: errReason.Error()}}})
	case errors.Is(err, totp.ErrNotEnrolled):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "the citizen has no authenticator app"})
	case err != nil:
		a.storeError(w, r, err, "citizen")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// passkeyResetBody removes the passkey credential_ref names (as
// GET /citizens/{id} lists it), or every passkey when it is empty.
type passkeyResetBody struct {
	Reason        string `json:"reason"`
	CredentialRef string `json:"credential_ref"`
}

type removedPasskeys struct {
	Removed int `json:"removed"`
}

func (a *Admin) apiResetPasskeys(w http.ResponseWriter, r *http.Request, act *actor) {
	var b passkeyResetBody
	if !decode(w, r, &b) {
		return
	}
	n, err := a.doResetPasskeys(r.Context(), act, r.PathValue("id"), b.CredentialRef, b.Reason)
	switch {
	case errors.Is(err, errReason):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Errors: []fieldError{{Field: "reason", Detail: errReason.Error()}}})
	case errors.Is(err, errNoPasskey) && b.CredentialRef != "":
		writeProblem(w, r, problem{Status: http.StatusNotFound, Detail: "the citizen has no passkey with this credential_ref"})
	case errors.Is(err, errNoPasskey):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "the citizen has no passkey"})
	case err != nil:
		a.storeError(w, r, err, "citizen")
	default:
		writeJSON(w, http.StatusOK, removedPasskeys{Removed: n})
	}
}

type levelBody struct {
	IdentityLevel int `json:"identity_level"`
}

func (a *Admin) apiSetIdentityLevel(w http.ResponseWriter, r *http.Request, act *actor) {
	var b levelBody
	if !decode(w, r, &b) {
		return
	}
	err := a.doSetIdentityLevel(r.Context(), act, r.PathValue("id"), b.IdentityLevel)
	switch {
	case errors.Is(err, errLevel):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Errors: []fieldError{{Field: "identity_level", Detail: errLevel.Error()}}})
	case err != nil:
		a.storeError(w, r, err, "citizen")
	default:
		a.apiGetCitizen(w, r, act)
	}
}

// SAML service providers.

// spSettingsJSON is the writable policy of a service provider in the API.
type spSettingsJSON struct {
	Name                  string   `json:"name"`
	MinLevel              int      `json:"min_level"`
	Attributes            []string `json:"attributes"`
	NameIDFormat          string   `json:"nameid_format"`
	AllowCitizenNumber    bool     `json:"allow_citizen_number"`
	EncryptAssertions     bool     `json:"encrypt_assertions"`
	RequireSignedRequests bool     `json:"require_signed_requests"`
	AllowIdPInitiated     bool     `json:"allow_idp_initiated"`
}

func (s spSettingsJSON) settings() spSettings { return spSettings(s) }

func settingsJSON(s spSettings) spSettingsJSON { return spSettingsJSON(s) }

// metadataBody gives the metadata inline or by URL.
type metadataBody struct {
	MetadataXML string `json:"metadata_xml"`
	MetadataURL string `json:"metadata_url"`
}

func (a *Admin) metadataFrom(ctx context.Context, b metadataBody) ([]byte, error) {
	switch {
	case b.MetadataXML != "" && b.MetadataURL != "":
		return nil, &validationError{[]fieldError{{Field: "metadata_xml", Key: "admin_err_sp_metadata", Detail: "give metadata_xml or metadata_url, not both"}}}
	case b.MetadataXML != "":
		return []byte(b.MetadataXML), nil
	case b.MetadataURL != "":
		return a.fetchMetadata(ctx, b.MetadataURL)
	}
	return nil, &validationError{[]fieldError{{Field: "metadata_xml", Key: "admin_err_sp_metadata", Detail: "metadata_xml or metadata_url is required"}}}
}

type spCreateBody struct {
	metadataBody
	spSettingsJSON
}

func (a *Admin) apiListSPs(w http.ResponseWriter, r *http.Request, act *actor) {
	after, limit, ok := paging(w, r)
	if !ok {
		return
	}
	all, err := a.o.Store.ListServiceProviders(r.Context())
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	out := page[spJSON]{Items: []spJSON{}}
	now := a.now()
	for i := range all {
		if all[i].EntityID <= after {
			continue
		}
		if len(out.Items) == limit {
			out.NextCursor = cursor(out.Items[len(out.Items)-1].EntityID)
			break
		}
		out.Items = append(out.Items, spToJSON(&all[i], now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) apiCreateSP(w http.ResponseWriter, r *http.Request, act *actor) {
	var b spCreateBody
	if !decode(w, r, &b) {
		return
	}
	md, err := a.metadataFrom(r.Context(), b.metadataBody)
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	sp, err := a.doCreateSP(r.Context(), act, md, b.spSettingsJSON.settings())
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	w.Header().Set("Location", apiPrefix+"/sps/"+spRef(sp.EntityID))
	writeJSON(w, http.StatusCreated, spToJSON(sp, a.now()))
}

// spOf reads the {ref} of the request.
func spOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	entity, ok := entityOfRef(r.PathValue("ref"))
	if !ok {
		writeProblem(w, r, problem{Status: http.StatusNotFound, Detail: "no such service provider"})
	}
	return entity, ok
}

func (a *Admin) apiGetSP(w http.ResponseWriter, r *http.Request, act *actor) {
	entity, ok := spOf(w, r)
	if !ok {
		return
	}
	sp, err := a.o.Store.ServiceProviderByEntityID(r.Context(), entity)
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	writeJSON(w, http.StatusOK, spToJSON(sp, a.now()))
}

// spPatch is a JSON merge patch of a service provider's policy, plus disabled.
type spPatch struct {
	spSettingsJSON
	Disabled *bool `json:"disabled"`
}

func (a *Admin) apiPatchSP(w http.ResponseWriter, r *http.Request, act *actor) {
	entity, ok := spOf(w, r)
	if !ok {
		return
	}
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	var probe spPatch
	if err := strictJSON(raw, &probe); err != nil {
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()})
		return
	}
	sp, err := a.doUpdateSP(r.Context(), act, "sp.update", entity, func(set *spSettings, _ *[]byte) error {
		p := spPatch{spSettingsJSON: settingsJSON(*set)}
		if err := strictJSON(raw, &p); err != nil {
			return &validationError{[]fieldError{{Detail: err.Error()}}}
		}
		*set = p.settings()
		return nil
	}, probe.Disabled)
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	writeJSON(w, http.StatusOK, spToJSON(sp, a.now()))
}

func (a *Admin) apiDeleteSP(w http.ResponseWriter, r *http.Request, act *actor) {
	entity, ok := spOf(w, r)
	if !ok {
		return
	}
	if err := a.doDeleteSP(r.Context(), act, entity); err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiSPMetadata replaces the metadata, given inline or fetched again.
func (a *Admin) apiSPMetadata(w http.ResponseWriter, r *http.Request, act *actor) {
	entity, ok := spOf(w, r)
	if !ok {
		return
	}
	var b metadataBody
	if !decode(w, r, &b) {
		return
	}
	md, err := a.metadataFrom(r.Context(), b)
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	sp, err := a.doUpdateSP(r.Context(), act, "sp.metadata", entity, func(_ *spSettings, m *[]byte) error { *m = md; return nil }, nil)
	if err != nil {
		a.storeError(w, r, err, "service provider")
		return
	}
	writeJSON(w, http.StatusOK, spToJSON(sp, a.now()))
}
