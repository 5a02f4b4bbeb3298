package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/keys"
)

// The admin API on signing keys and citizens.

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
