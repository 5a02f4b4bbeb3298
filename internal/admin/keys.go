package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/store"
)

// keyRow is one signing key as the console shows it.
type keyRow struct {
	ID, Algorithm, State, StateLabel string
	Created, Age                     string
	Activated, Retired, VerifyUntil  string
	Retirable                        bool
}

// keyJSON is a signing key as the API returns it and the audit log
// records it: public facts only.
type keyJSON struct {
	ID          string     `json:"kid"`
	Algorithm   string     `json:"algorithm"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	VerifyUntil *time.Time `json:"verify_until,omitempty"`
	AgeSeconds  int64      `json:"age_seconds"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func keyToJSON(k store.SigningKey, now time.Time) keyJSON {
	return keyJSON{ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt.UTC(), ActivatedAt: optTime(k.ActivatedAt),
		RetiredAt: optTime(k.RetiredAt), VerifyUntil: optTime(k.VerifyUntil), AgeSeconds: int64(now.Sub(k.CreatedAt).Seconds())}
}

func (a *Admin) keyRows(r *http.Request, act *actor) ([]keyRow, error) {
	list, err := a.o.Keys.List(r.Context())
	if err != nil {
		return nil, err
	}
	now := a.now()
	var rows []keyRow
	for _, k := range list {
		if k.State == store.KeyRetired && !k.VerifyUntil.IsZero() && !now.Before(k.VerifyUntil) {
			continue // no longer published; the next rotation deletes it
		}
		rows = append(rows, keyRow{ID: k.ID, Algorithm: k.Algorithm, State: k.State, StateLabel: a.rd.t(act.lang, "admin_key_"+k.State),
			Created: a.fmtTime(k.CreatedAt), Age: a.rd.Duration(act.lang, now.Sub(k.CreatedAt)), Activated: a.fmtTime(k.ActivatedAt),
			Retired: a.fmtTime(k.RetiredAt), VerifyUntil: a.fmtTime(k.VerifyUntil), Retirable: k.State != store.KeyActive})
	}
	return rows, nil
}

// keysView is the view model of admin_keys.html.
type keysView struct {
	*chrome
	Keys     []keyRow
	CanWrite bool
}

func (a *Admin) listKeys(w http.ResponseWriter, r *http.Request, act *actor) {
	rows, err := a.keyRows(r, act)
	if err != nil {
		a.o.Log.ErrorContext(r.Context(), "list keys", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	a.rd.render(w, r, http.StatusOK, "admin_keys", "admin_keys_title", keysView{chrome: a.chrome(r, act), Keys: rows, CanWrite: act.can(permKeysWrite)})
}

func (a *Admin) doRotateKey(ctx context.Context, act *actor) (string, error) {
	before, err := a.o.Keys.List(ctx)
	if err != nil {
		return "", err
	}
	kid, err := a.o.Keys.Rotate(ctx)
	if err != nil {
		return "", err
	}
	after, err := a.o.Keys.List(ctx)
	if err != nil {
		after = nil
	}
	now := a.now()
	a.record(ctx, act, "keys.rotate", "key:"+kid, "success", map[string]string{"active": kid}, keysJSON(before, now), keysJSON(after, now))
	return kid, nil
}

func keysJSON(list []store.SigningKey, now time.Time) []keyJSON {
	out := make([]keyJSON, len(list))
	for i, k := range list {
		out[i] = keyToJSON(k, now)
	}
	return out
}

func (a *Admin) doRetireKey(ctx context.Context, act *actor, kid string) error {
	before, err := a.o.Keys.List(ctx)
	if err != nil {
		return err
	}
	if err := a.o.Keys.Retire(ctx, kid); err != nil {
		return err
	}
	after, _ := a.o.Keys.List(ctx)
	now := a.now()
	a.record(ctx, act, "keys.retire", "key:"+kid, "success", nil, keysJSON(before, now), keysJSON(after, now))
	return nil
}

func (a *Admin) rotateKey(w http.ResponseWriter, r *http.Request, act *actor) {
	if !a.confirmed(w, r, act, "admin_confirm_key_rotate", "", "/admin/keys") {
		return
	}
	if _, err := a.doRotateKey(r.Context(), act); err != nil {
		a.o.Log.ErrorContext(r.Context(), "rotate keys", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	http.Redirect(w, r, "/admin/keys?done=admin_msg_rotated", http.StatusSeeOther)
}

func (a *Admin) retireKey(w http.ResponseWriter, r *http.Request, act *actor) {
	kid := r.PathValue("kid")
	if !a.confirmed(w, r, act, "admin_confirm_key_retire", kid, "/admin/keys") {
		return
	}
	err := a.doRetireKey(r.Context(), act, kid)
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/keys?done=admin_msg_retired", http.StatusSeeOther)
	case errors.Is(err, keys.ErrActiveKey):
		http.Redirect(w, r, "/admin/keys?err=admin_err_key_active", http.StatusSeeOther)
	case errors.Is(err, keys.ErrLastNextKey):
		http.Redirect(w, r, "/admin/keys?err=admin_err_key_last_next", http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_key", a.chrome(r, act))
	default:
		a.o.Log.ErrorContext(r.Context(), "retire key", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}
