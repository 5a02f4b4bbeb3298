package admin

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	samlidp "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

// SAML service providers: registered from their metadata (uploaded, or
// fetched from a URL within admin.metadata_timeout and 1 MiB), shown with
// what the metadata says (ACS URLs, certificates and their expiry), and
// CitizenID's policy for them (released attributes, NameID format, minimum
// level, encryption). The rules are the saml package's; the console and
// the API share the operations below.

// spSettings is what an administrator decides for a service provider.
type spSettings struct {
	Name                  string
	MinLevel              int
	Attributes            []string
	NameIDFormat          string
	AllowCitizenNumber    bool
	EncryptAssertions     bool
	RequireSignedRequests bool
	AllowIdPInitiated     bool
	LegalBasis            string
}

func (s spSettings) spec(metadata []byte) samlidp.SPSpec {
	// Attributes nil: the saml package's default (identity_level only).
	return samlidp.SPSpec{MetadataXML: metadata, Name: s.Name, MinLevel: s.MinLevel, Attributes: s.Attributes, NameIDFormat: s.NameIDFormat,
		AllowCitizenNumber: s.AllowCitizenNumber, EncryptAssertions: s.EncryptAssertions,
		RequireSignedRequests: s.RequireSignedRequests, AllowIdPInitiated: s.AllowIdPInitiated, LegalBasis: s.LegalBasis}
}

func settingsOf(sp *store.ServiceProvider) spSettings {
	attrs := slices.Clone(sp.Attributes)
	if attrs == nil {
		attrs = []string{}
	}
	return spSettings{Name: sp.Name, MinLevel: sp.MinLevel, Attributes: attrs, NameIDFormat: sp.NameIDFormat,
		AllowCitizenNumber: sp.AllowCitizenNumber, EncryptAssertions: sp.EncryptAssertions,
		RequireSignedRequests: sp.RequireSignedRequests, AllowIdPInitiated: sp.AllowIdPInitiated, LegalBasis: sp.LegalBasis}
}

// spRef names a service provider in URLs: its entity ID (itself usually a
// URL) in unpadded base64url.
func spRef(entityID string) string { return base64.RawURLEncoding.EncodeToString([]byte(entityID)) }

func entityOfRef(ref string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil || len(b) == 0 || len(b) > 1024 {
		return "", false
	}
	return string(b), true
}

// spJSON is a service provider as the API returns it and the audit log
// records it (without the metadata document itself, by its hash).
type spJSON struct {
	Ref                   string     `json:"ref"`
	EntityID              string     `json:"entity_id"`
	Name                  string     `json:"name"`
	ACSURLs               []string   `json:"acs_urls"`
	Certificates          []certJSON `json:"certificates"`
	NameIDFormat          string     `json:"nameid_format"`
	Attributes            []string   `json:"attributes"`
	AllowCitizenNumber    bool       `json:"allow_citizen_number"`
	MinLevel              int        `json:"min_level"`
	EncryptAssertions     bool       `json:"encrypt_assertions"`
	RequireSignedRequests bool       `json:"require_signed_requests"`
	AllowIdPInitiated     bool       `json:"allow_idp_initiated"`
	LegalBasis            string     `json:"legal_basis"`
	Disabled              bool       `json:"disabled"`
	MetadataSHA256        string     `json:"metadata_sha256"`
	CreatedAt             time.Time  `json:"created_at"`
	UpdatedAt             time.Time  `json:"updated_at"`
}

// certJSON is one certificate of the metadata.
type certJSON struct {
	Use      string    `json:"use"` // signing, encryption, or both ("")
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
	Expired  bool      `json:"expired"`
	SHA256   string    `json:"sha256"`
}

func spToJSON(sp *store.ServiceProvider, now time.Time) spJSON {
	sum := sha256.Sum256(sp.MetadataXML)
	return spJSON{Ref: spRef(sp.EntityID), EntityID: sp.EntityID, Name: sp.Name, ACSURLs: list(sp.ACSURLs), Certificates: spCertificates(sp.MetadataXML, now),
		NameIDFormat: sp.NameIDFormat, Attributes: list(sp.Attributes), AllowCitizenNumber: sp.AllowCitizenNumber, MinLevel: max(sp.MinLevel, 1),
		EncryptAssertions: sp.EncryptAssertions, RequireSignedRequests: sp.RequireSignedRequests, AllowIdPInitiated: sp.AllowIdPInitiated,
		LegalBasis: sp.LegalBasis, Disabled: sp.Disabled, MetadataSHA256: hex.EncodeToString(sum[:]), CreatedAt: sp.CreatedAt.UTC(), UpdatedAt: sp.UpdatedAt.UTC()}
}

// spCertificates lists the certificates in the metadata's SPSSODescriptors.
func spCertificates(metadata []byte, now time.Time) []certJSON {
	ed, err := samlidp.ParseSPMetadata(metadata)
	if err != nil {
		return []certJSON{}
	}
	out := []certJSON{}
	for _, d := range ed.SPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					continue
				}
				sum := sha256.Sum256(der)
				out = append(out, certJSON{Use: kd.Use, Subject: cert.Subject.String(), NotAfter: cert.NotAfter.UTC(),
					Expired: !now.Before(cert.NotAfter), SHA256: hex.EncodeToString(sum[:])})
			}
		}
	}
	return out
}

// spError turns the saml package's joined problems into field errors.
func spError(field string, err error) *validationError {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	ve := &validationError{}
	for _, e := range errs {
		ve.fields = append(ve.fields, fieldError{Field: field, Key: "admin_err_sp_invalid", Detail: e.Error()})
	}
	return ve
}

// fetchMetadata gets metadata from the SP's URL within MetadataTimeout.
func (a *Admin) fetchMetadata(ctx context.Context, url string) ([]byte, error) {
	timeout := a.o.MetadataTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := samlidp.FetchMetadata(ctx, strings.TrimSpace(url), a.o.MetadataFetch)
	if err != nil {
		a.o.Log.WarnContext(ctx, "fetch SP metadata", "err", samlidp.FetchCause(err))
		return nil, &validationError{[]fieldError{{Field: "metadata_url", Key: "admin_err_sp_invalid", Detail: err.Error()}}}
	}
	return b, nil
}

func (a *Admin) doCreateSP(ctx context.Context, act *actor, metadata []byte, set spSettings) (*store.ServiceProvider, error) {
	sp, err := samlidp.NewServiceProvider(set.spec(metadata))
	if err != nil {
		return nil, spError("metadata", err)
	}
	if err := a.o.Store.CreateServiceProvider(ctx, sp); err != nil {
		return nil, err
	}
	a.record(ctx, act, "sp.create", "sp:"+sp.EntityID, "success", nil, nil, spToJSON(sp, a.now()))
	return sp, nil
}

// doUpdateSP rebuilds the service provider from its (possibly new)
// metadata and settings, checked as at registration, in one transaction;
// the metadata must keep the entity ID. A non-nil disabled is set too.
func (a *Admin) doUpdateSP(ctx context.Context, act *actor, action, entityID string, edit func(set *spSettings, metadata *[]byte) error, disabled *bool) (*store.ServiceProvider, error) {
	var before, after spJSON
	var out *store.ServiceProvider
	err := a.o.Store.UpdateServiceProvider(ctx, entityID, func(sp *store.ServiceProvider) error {
		now := a.now()
		before = spToJSON(sp, now)
		set, md := settingsOf(sp), sp.MetadataXML
		if err := edit(&set, &md); err != nil {
			return err
		}
		n, err := samlidp.NewServiceProvider(set.spec(md))
		if err != nil {
			return spError("metadata", err)
		}
		if n.EntityID != sp.EntityID {
			return &validationError{[]fieldError{{Field: "metadata", Key: "admin_err_sp_entity", Detail: fmt.Sprintf("the metadata is for %q, not %q", n.EntityID, sp.EntityID)}}}
		}
		n.CreatedAt, n.UpdatedAt, n.Disabled = sp.CreatedAt, sp.UpdatedAt, sp.Disabled
		if disabled != nil {
			n.Disabled = *disabled
		}
		*sp = *n
		after = spToJSON(sp, now)
		out = sp
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.record(ctx, act, action, "sp:"+entityID, "success", nil, before, after)
	return out, nil
}

func (a *Admin) doDeleteSP(ctx context.Context, act *actor, entityID string) error {
	sp, err := a.o.Store.ServiceProviderByEntityID(ctx, entityID)
	if err != nil {
		return err
	}
	if err := a.o.Store.DeleteServiceProvider(ctx, entityID); err != nil {
		return err
	}
	a.record(ctx, act, "sp.delete", "sp:"+entityID, "success", nil, spToJSON(sp, a.now()), nil)
	return nil
}

// Console pages.

type spRow struct {
	Ref, EntityID, Name, Status string
	MinLevel, ACS               int
	Disabled                    bool
}

// spsView is the view model of admin_sps.html.
type spsView struct {
	*chrome
	SPs      []spRow
	CanWrite bool
}

func (a *Admin) listSPs(w http.ResponseWriter, r *http.Request, act *actor) {
	sps, err := a.o.Store.ListServiceProviders(r.Context())
	if err != nil {
		a.o.Log.ErrorContext(r.Context(), "list service providers", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	v := spsView{chrome: a.chrome(r, act), CanWrite: act.can(permRPWrite)}
	for _, sp := range sps {
		v.SPs = append(v.SPs, a.spRow(act.lang, &sp))
	}
	a.rd.render(w, r, http.StatusOK, "admin_sps", "admin_sps_title", v)
}

func (a *Admin) spRow(lang string, sp *store.ServiceProvider) spRow {
	row := spRow{Ref: spRef(sp.EntityID), EntityID: sp.EntityID, Name: sp.Name, MinLevel: max(sp.MinLevel, 1), ACS: len(sp.ACSURLs),
		Disabled: sp.Disabled, Status: a.rd.t(lang, "admin_status_active")}
	if sp.Disabled {
		row.Status = a.rd.t(lang, "admin_status_disabled")
	}
	return row
}

// spForm is the settings form as typed.
type spForm struct {
	Name, MinLevel, NameIDFormat, MetadataURL string
	AllowCitizenNumber, Encrypt, SignedReqs   bool
	IdPInitiated                              bool
	LegalBasis                                string
	Attributes                                []choice
}

// spView is the view model of admin_sp.html (new and show).
type spView struct {
	*chrome
	New      bool
	Action   string
	Form     spForm
	Errors   formErrors
	CanWrite bool
	SP       *spDetail
}

type spDetail struct {
	Ref, EntityID, Name, Status string
	Disabled                    bool
	ACSURLs                     []string
	Certificates                []certRow
	CreatedAt, UpdatedAt        string
	MetadataSHA256              string
}

type certRow struct {
	Use, Subject, NotAfter, SHA256 string
	Expired                        bool
}

func (a *Admin) spForm(lang string, set spSettings) spForm {
	f := spForm{Name: set.Name, MinLevel: strconv.Itoa(max(set.MinLevel, 1)), NameIDFormat: set.NameIDFormat,
		AllowCitizenNumber: set.AllowCitizenNumber, Encrypt: set.EncryptAssertions, SignedReqs: set.RequireSignedRequests,
		IdPInitiated: set.AllowIdPInitiated, LegalBasis: set.LegalBasis}
	switch set.NameIDFormat {
	case samlidp.NameIDPersistent, "":
		f.NameIDFormat = "persistent"
	case samlidp.NameIDTransient:
		f.NameIDFormat = "transient"
	case samlidp.NameIDCitizenNumber:
		f.NameIDFormat = "citizen-number"
	}
	for _, attr := range samlidp.KnownAttributes {
		f.Attributes = append(f.Attributes, choice{Value: attr, Label: a.rd.t(lang, "admin_attr_"+attr), Checked: slices.Contains(set.Attributes, attr)})
	}
	return f
}

// parseSPSettings reads the settings fields of a console form.
func parseSPSettings(r *http.Request) spSettings {
	f := r.PostForm
	lvl, err := strconv.Atoi(f.Get("min_level"))
	if err != nil {
		lvl = -1
	}
	attrs := f["attribute"]
	if attrs == nil {
		attrs = []string{}
	}
	return spSettings{Name: f.Get("name"), MinLevel: lvl, Attributes: attrs, NameIDFormat: f.Get("nameid_format"),
		AllowCitizenNumber: f.Get("allow_citizen_number") == "on", EncryptAssertions: f.Get("encrypt_assertions") == "on",
		RequireSignedRequests: f.Get("require_signed_requests") == "on", AllowIdPInitiated: f.Get("allow_idp_initiated") == "on",
		LegalBasis: f.Get("legal_basis")}
}

// metadataOf reads metadata from the form's upload, or fetches it from
// its URL.
func (a *Admin) metadataOf(r *http.Request) ([]byte, error) {
	if file, _, err := r.FormFile("metadata_file"); err == nil {
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, samlidp.MaxMetadataSize+1))
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			return b, nil
		}
	}
	if u := strings.TrimSpace(r.PostForm.Get("metadata_url")); u != "" {
		return a.fetchMetadata(r.Context(), u)
	}
	return nil, &validationError{[]fieldError{{Field: "metadata", Key: "admin_err_sp_metadata", Detail: "upload the metadata or give its URL"}}}
}

// parseUpload reads a multipart console form (the metadata upload).
func parseUpload(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(samlidp.MaxMetadataSize + 64<<10)
	}
	return nil
}

func (a *Admin) newSP(w http.ResponseWriter, r *http.Request, act *actor) {
	a.rd.render(w, r, http.StatusOK, "admin_sp", "admin_sp_new_title", spView{chrome: a.chrome(r, act), New: true, Action: "/admin/sps",
		Form: a.spForm(act.lang, spSettings{Attributes: []string{samlidp.AttrIdentityLevel}}), CanWrite: true})
}

func (a *Admin) createSP(w http.ResponseWriter, r *http.Request, act *actor) {
	ctx := r.Context()
	if err := parseUpload(r); err != nil {
		a.rd.error(w, r, http.StatusBadRequest, "admin_err_sp_upload", a.chrome(r, act))
		return
	}
	set := parseSPSettings(r)
	md, err := a.metadataOf(r)
	var sp *store.ServiceProvider
	if err == nil {
		sp, err = a.doCreateSP(ctx, act, md, set)
	}
	var ve *validationError
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/sps/"+spRef(sp.EntityID)+"?done=admin_msg_saved", http.StatusSeeOther)
		return
	case errors.As(err, &ve):
	case errors.Is(err, store.ErrConflict):
		ve = &validationError{[]fieldError{{Field: "metadata", Key: "admin_err_sp_exists"}}}
	default:
		a.o.Log.ErrorContext(ctx, "register service provider", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	v := spView{chrome: a.chrome(r, act), New: true, Action: "/admin/sps", Form: a.spForm(act.lang, set), CanWrite: true}
	v.Form.MetadataURL = r.PostForm.Get("metadata_url")
	v.Errors = a.spErrors(act.lang, ve.fields, spNewFields)
	a.rd.render(w, r, http.StatusUnprocessableEntity, "admin_sp", "admin_sp_new_title", v)
}

// spErrors turns the problems of a service provider form into messages
// beside the element ids of fields. The saml package reports problems of
// the metadata and settings in English, for the CLI and the API; the page
// shows the translated kind of problem and that detail marked as English.
func (a *Admin) spErrors(lang string, errs []fieldError, fields map[string]string) formErrors {
	var out formErrors
	for _, e := range errs {
		id := cmp.Or(fields[e.Field], "sp-form")
		msg := a.message(lang, e.Key)
		if e.Key == "admin_err_sp_invalid" && e.Detail != "" {
			out.addDetail(id, msg, e.Detail)
			continue
		}
		out.add(id, msg)
	}
	return out
}

// Where each form shows the problems of a service provider.
var (
	spNewFields     = map[string]string{"metadata": "metadata_file", "metadata_url": "metadata_url"}
	spUpdateFields  = map[string]string{}
	spRefetchFields = map[string]string{"metadata": "refetch-file", "metadata_url": "refetch-url"}
)

// loadSP finds the service provider of the request's {ref}, or answers 404.
func (a *Admin) loadSP(w http.ResponseWriter, r *http.Request, act *actor) *store.ServiceProvider {
	entity, ok := entityOfRef(r.PathValue("ref"))
	var sp *store.ServiceProvider
	err := store.ErrNotFound
	if ok {
		sp, err = a.o.Store.ServiceProviderByEntityID(r.Context(), entity)
	}
	if errors.Is(err, store.ErrNotFound) {
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_sp", a.chrome(r, act))
		return nil
	} else if err != nil {
		a.o.Log.ErrorContext(r.Context(), "load service provider", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return nil
	}
	return sp
}

func (a *Admin) spPage(r *http.Request, act *actor, sp *store.ServiceProvider, form spForm, errs formErrors) spView {
	j := spToJSON(sp, a.now())
	row := a.spRow(act.lang, sp)
	d := &spDetail{Ref: j.Ref, EntityID: sp.EntityID, Name: sp.Name, Status: row.Status, Disabled: sp.Disabled, ACSURLs: sp.ACSURLs,
		CreatedAt: a.fmtTime(sp.CreatedAt), UpdatedAt: a.fmtTime(sp.UpdatedAt), MetadataSHA256: j.MetadataSHA256}
	for _, c := range j.Certificates {
		use := c.Use
		if use == "" {
			use = "signing, encryption"
		}
		d.Certificates = append(d.Certificates, certRow{Use: use, Subject: c.Subject, NotAfter: a.fmtTime(c.NotAfter), SHA256: c.SHA256, Expired: c.Expired})
	}
	return spView{chrome: a.chrome(r, act), Action: "/admin/sps/" + j.Ref, Form: form, Errors: errs, CanWrite: act.can(permRPWrite), SP: d}
}

func (a *Admin) showSP(w http.ResponseWriter, r *http.Request, act *actor) {
	sp := a.loadSP(w, r, act)
	if sp == nil {
		return
	}
	a.rd.render(w, r, http.StatusOK, "admin_sp", "admin_sp_title", a.spPage(r, act, sp, a.spForm(act.lang, settingsOf(sp)), nil))
}

func (a *Admin) updateSP(w http.ResponseWriter, r *http.Request, act *actor) {
	sp := a.loadSP(w, r, act)
	if sp == nil {
		return
	}
	set := parseSPSettings(r)
	_, err := a.doUpdateSP(r.Context(), act, "sp.update", sp.EntityID, func(s *spSettings, _ *[]byte) error { *s = set; return nil }, nil)
	a.spDone(w, r, act, sp, err, set, spUpdateFields)
}

// refetchSP replaces the metadata: uploaded, or fetched again from a URL.
func (a *Admin) refetchSP(w http.ResponseWriter, r *http.Request, act *actor) {
	if err := parseUpload(r); err != nil {
		a.rd.error(w, r, http.StatusBadRequest, "admin_err_sp_upload", a.chrome(r, act))
		return
	}
	sp := a.loadSP(w, r, act)
	if sp == nil {
		return
	}
	md, err := a.metadataOf(r)
	if err == nil {
		_, err = a.doUpdateSP(r.Context(), act, "sp.metadata", sp.EntityID, func(_ *spSettings, m *[]byte) error { *m = md; return nil }, nil)
	}
	a.spDone(w, r, act, sp, err, settingsOf(sp), spRefetchFields)
}

func (a *Admin) spDone(w http.ResponseWriter, r *http.Request, act *actor, sp *store.ServiceProvider, err error, set spSettings, fields map[string]string) {
	var ve *validationError
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/sps/"+spRef(sp.EntityID)+"?done=admin_msg_saved", http.StatusSeeOther)
	case errors.As(err, &ve):
		a.rd.render(w, r, http.StatusUnprocessableEntity, "admin_sp", "admin_sp_title",
			a.spPage(r, act, sp, a.spForm(act.lang, set), a.spErrors(act.lang, ve.fields, fields)))
	case errors.Is(err, store.ErrNotFound):
		a.rd.error(w, r, http.StatusNotFound, "admin_err_no_sp", a.chrome(r, act))
	default:
		a.o.Log.ErrorContext(r.Context(), "change service provider", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
	}
}

func (a *Admin) setSPDisabled(w http.ResponseWriter, r *http.Request, act *actor, disabled bool) {
	sp := a.loadSP(w, r, act)
	if sp == nil {
		return
	}
	if disabled && !a.confirmed(w, r, act, "admin_confirm_sp_disable", sp.Name, "/admin/sps/"+spRef(sp.EntityID)) {
		return
	}
	action := "sp.enable"
	if disabled {
		action = "sp.disable"
	}
	_, err := a.doUpdateSP(r.Context(), act, action, sp.EntityID, func(*spSettings, *[]byte) error { return nil }, &disabled)
	a.spDone(w, r, act, sp, err, settingsOf(sp), spRefetchFields)
}

func (a *Admin) disableSP(w http.ResponseWriter, r *http.Request, act *actor) {
	a.setSPDisabled(w, r, act, true)
}
func (a *Admin) enableSP(w http.ResponseWriter, r *http.Request, act *actor) {
	a.setSPDisabled(w, r, act, false)
}

func (a *Admin) deleteSP(w http.ResponseWriter, r *http.Request, act *actor) {
	sp := a.loadSP(w, r, act)
	if sp == nil || !a.confirmed(w, r, act, "admin_confirm_sp_delete", sp.Name+" ("+sp.EntityID+")", "/admin/sps/"+spRef(sp.EntityID)) {
		return
	}
	if err := a.doDeleteSP(r.Context(), act, sp.EntityID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.o.Log.ErrorContext(r.Context(), "delete service provider", "err", err)
		a.rd.error(w, r, http.StatusServiceUnavailable, "err_generic", a.chrome(r, act))
		return
	}
	http.Redirect(w, r, "/admin/sps?done=admin_msg_deleted", http.StatusSeeOther)
}
