package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The admin API on relying parties: OIDC clients and SAML service
// providers.

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
	LegalBasis                  string   `json:"legal_basis"`
	BackchannelLogoutURI        string   `json:"backchannel_logout_uri"`
	BackchannelLogoutSession    bool     `json:"backchannel_logout_session_required"`
	// JWKS is the key set as a JSON object (null: none).
	JWKS                json.RawMessage `json:"jwks"`
	JWKSURI             string          `json:"jwks_uri"`
	RequirePAR          bool            `json:"require_par"`
	RequireDPoP         bool            `json:"require_dpop"`
	Profile             string          `json:"profile"`
	AccessTokenAudience string          `json:"access_token_audience"`
	// AccessTokenFormat is jwt or opaque (empty: jwt);
	// IDTokenSignedResponseAlg one of the published algorithms (empty:
	// the server's default), as RFC 7591 names it.
	AccessTokenFormat        string `json:"access_token_format"`
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
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
		IDTokenLifetime: seconds(b.IDTokenLifetimeSeconds), LegalBasis: b.LegalBasis,
		BackchannelLogoutURI: b.BackchannelLogoutURI, BackchannelLogoutSessionRequired: b.BackchannelLogoutSession,
		JWKS: jwksText(b.JWKS), JWKSURI: b.JWKSURI, RequirePAR: b.RequirePAR, RequireDPoP: b.RequireDPoP, Profile: b.Profile,
		AccessTokenAudience: b.AccessTokenAudience, AccessTokenFormat: b.AccessTokenFormat, IDTokenSignedResponseAlg: b.IDTokenSignedResponseAlg}
}

// jwksText is the API's jwks as the rules take it: "" for null or
// absent; a JSON string holding the set is taken too.
func jwksText(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	var text string
	switch {
	case s == "null":
		return ""
	case strings.HasPrefix(s, `"`) && json.Unmarshal(raw, &text) == nil:
		return text
	}
	return s
}

func bodyOf(in clientInput) clientBody {
	return clientBody{ID: in.ID, Name: in.Name, LogoURL: in.LogoURL, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		Public: in.Public, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod, Scopes: in.Scopes, SubjectType: in.SubjectType,
		SectorIdentifier: in.SectorIdentifier, MinLevel: in.MinLevel, MaxAuthAgeSeconds: int64(in.MaxAuthAge.Seconds()),
		AccessTokenLifetimeSeconds: int64(in.AccessTokenLifetime.Seconds()), RefreshTokenLifetimeSeconds: int64(in.RefreshTokenLifetime.Seconds()),
		IDTokenLifetimeSeconds: int64(in.IDTokenLifetime.Seconds()), LegalBasis: in.LegalBasis,
		BackchannelLogoutURI: in.BackchannelLogoutURI, BackchannelLogoutSession: in.BackchannelLogoutSessionRequired,
		JWKS: rawJSON(in.JWKS), JWKSURI: in.JWKSURI, RequirePAR: in.RequirePAR, RequireDPoP: in.RequireDPoP, Profile: in.Profile,
		AccessTokenAudience: in.AccessTokenAudience, AccessTokenFormat: in.AccessTokenFormat, IDTokenSignedResponseAlg: in.IDTokenSignedResponseAlg}
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
	case errors.Is(err, errKeyed):
		writeProblem(w, r, problem{Type: problemConflict, Status: http.StatusConflict, Title: "Conflict", Detail: "a private_key_jwt client authenticates with its keys and has no secret"})
	case errors.Is(err, errNoOverlap):
		writeProblem(w, r, problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Title: "Invalid input",
			Errors: []fieldError{{Field: "overlap_seconds", Detail: fmt.Sprintf("0 to %d", int64(maxOverlap.Seconds()))}}})
	case err != nil:
		a.storeError(w, r, err, "client")
	default:
		writeJSON(w, http.StatusOK, rotatedSecret{ClientID: id, ClientSecret: secret, PreviousSecretValidUntil: optTime(until)})
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
	LegalBasis            string   `json:"legal_basis"`
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
