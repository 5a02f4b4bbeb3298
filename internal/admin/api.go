package admin

import (
	"bytes"
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
