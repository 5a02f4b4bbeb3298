package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/store"
)

// The client page: its view models, and the form as typed, parsed and
// checked, with its problems as messages beside their fields.

// clientForm holds the form's values as typed, for showing them again.
type clientForm struct {
	ID, Name, LogoURL                           string
	RedirectURIs, PostLogoutRedirectURIs        string // one per line
	Public                                      bool
	Scopes                                      []choice
	AuthMethod, SubjectType, Sector, MinLevel   string
	MaxAuthAge, AccessLifetime, RefreshLifetime string
	IDLifetime, LegalBasis                      string
	BackchannelURI                              string
	BackchannelSession                          bool
	JWKS, JWKSURI, Profile, Audience            string
	RequirePAR, RequireDPoP                     bool
	AccessTokenFormat, IDTokenAlg               string
}

// clientView is the view model of admin_client.html (new, edit and show).
type clientView struct {
	*chrome
	New       bool
	Action    string
	Form      clientForm
	Errors    formErrors
	CanWrite  bool
	CanAdmins bool
	Client    *clientDetail
	// Algorithms are the ID token signing algorithms the server
	// publishes keys for (Options.SigningAlgorithms).
	Algorithms []string
}

// algChoice is an option of the ID token algorithm's select.
type algChoice struct {
	Value       string
	Selected    bool
	Unpublished bool // the client's own, no longer published: saving it is refused
}

// AlgChoices are the published algorithms, and the form's own when the
// server no longer publishes it: shown as it is, never silently replaced
// by another on saving.
func (v clientView) AlgChoices() []algChoice {
	var out []algChoice
	for _, alg := range v.Algorithms {
		out = append(out, algChoice{Value: alg, Selected: alg == v.Form.IDTokenAlg})
	}
	if alg := v.Form.IDTokenAlg; alg != "" && !slices.Contains(v.Algorithms, alg) {
		out = append(out, algChoice{Value: alg, Selected: true, Unpublished: true})
	}
	return out
}

// clientDetail is what the page shows of a stored client beyond the form.
type clientDetail struct {
	ID, Name, Type, Status string
	Disabled, Public       bool
	GrantTypes             string
	// AccessTokenFormat and IDTokenAlg are the stored token settings
	// (IDTokenAlg empty: the server's default).
	AccessTokenFormat, IDTokenAlg string
	PreviousUntil                 string
	CreatedAt, UpdatedAt          string
	Overlaps                      []choice
	APIScopes                     []choice
	// Logouts are the latest back-channel logouts sent to the portal.
	Logouts []logoutDelivery
	// Keyed: the client authenticates with its keys (no secret).
	Keyed bool
	// Keys are the portal's registered keys; KeysFrom is the JWKS URI
	// they were fetched from, KeysFailed that they could not be.
	Keys       []portalKeyRow
	KeysFrom   string
	KeysFailed bool
}

// portalKeyRow is a portal's key as the client page lists it.
type portalKeyRow struct {
	ID, Algorithms, Type, Expires string
}

// logoutDelivery is a back-channel logout as the client page lists it.
type logoutDelivery struct {
	Created, Done, Status, LastError string
	Attempts                         int
	Failed                           bool
}

type choice struct {
	Value, Label string
	Checked      bool
}

func formOf(in clientInput) clientForm {
	f := clientForm{ID: in.ID, Name: in.Name, LogoURL: in.LogoURL, RedirectURIs: strings.Join(in.RedirectURIs, "\n"),
		PostLogoutRedirectURIs: strings.Join(in.PostLogoutRedirectURIs, "\n"), Public: in.Public, AuthMethod: in.TokenEndpointAuthMethod,
		SubjectType: in.SubjectType, Sector: in.SectorIdentifier, MinLevel: strconv.Itoa(max(in.MinLevel, 1)),
		MaxAuthAge: fmtDur(in.MaxAuthAge), AccessLifetime: fmtDur(in.AccessTokenLifetime),
		RefreshLifetime: fmtDur(in.RefreshTokenLifetime), IDLifetime: fmtDur(in.IDTokenLifetime), LegalBasis: in.LegalBasis,
		BackchannelURI: in.BackchannelLogoutURI, BackchannelSession: in.BackchannelLogoutSessionRequired,
		JWKS: indentJSON(in.JWKS), JWKSURI: in.JWKSURI, Profile: in.Profile, Audience: in.AccessTokenAudience,
		RequirePAR: in.RequirePAR, RequireDPoP: in.RequireDPoP, AccessTokenFormat: in.AccessTokenFormat,
		IDTokenAlg: in.IDTokenSignedResponseAlg}
	for _, s := range clients.ExtraScopes {
		f.Scopes = append(f.Scopes, choice{Value: s, Label: "admin_scope_" + s, Checked: slices.Contains(in.Scopes, s)})
	}
	return f
}

// fmtDur writes a duration as people type it: "90m", "8h", "" for zero.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}

// parseClientForm reads the console's form. Fields that cannot even be
// parsed (a duration, a level) are reported like validation problems.
func parseClientForm(r *http.Request, existing *store.Client) (clientInput, clientForm, []fieldError) {
	f := r.PostForm
	var errs []fieldError
	dur := func(name string) time.Duration {
		s := strings.TrimSpace(f.Get(name))
		if s == "" || s == "0" {
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fieldError{Field: name, Key: "admin_err_duration", Detail: fmt.Sprintf("%s: not a duration like 15m or 8h", name)})
		}
		return d
	}
	in := clientInput{
		ID:                               f.Get("id"),
		Name:                             f.Get("name"),
		LogoURL:                          f.Get("logo_url"),
		RedirectURIs:                     strings.Split(f.Get("redirect_uris"), "\n"),
		PostLogoutRedirectURIs:           strings.Split(f.Get("post_logout_redirect_uris"), "\n"),
		Public:                           f.Get("public") == "on",
		TokenEndpointAuthMethod:          f.Get("token_endpoint_auth_method"),
		SubjectType:                      f.Get("subject_type"),
		SectorIdentifier:                 f.Get("sector_identifier"),
		MaxAuthAge:                       dur("max_auth_age"),
		AccessTokenLifetime:              dur("access_token_lifetime"),
		RefreshTokenLifetime:             dur("refresh_token_lifetime"),
		IDTokenLifetime:                  dur("id_token_lifetime"),
		LegalBasis:                       f.Get("legal_basis"),
		BackchannelLogoutURI:             f.Get("backchannel_logout_uri"),
		BackchannelLogoutSessionRequired: f.Get("backchannel_logout_session_required") == "on",
		JWKS:                             f.Get("jwks"),
		JWKSURI:                          f.Get("jwks_uri"),
		RequirePAR:                       f.Get("require_par") == "on",
		RequireDPoP:                      f.Get("require_dpop") == "on",
		Profile:                          f.Get("profile"),
		AccessTokenAudience:              f.Get("access_token_audience"),
		AccessTokenFormat:                f.Get("access_token_format"),
		IDTokenSignedResponseAlg:         f.Get("id_token_signed_response_alg"),
	}
	in.Scopes = f["scope"]
	if existing != nil {
		// Scopes the console does not offer stay as they are.
		for _, s := range existing.Scopes {
			if !slices.Contains(clients.ExtraScopes, s) {
				in.Scopes = append(in.Scopes, s)
			}
		}
	}
	if lvl, err := strconv.Atoi(strings.TrimSpace(f.Get("min_level"))); err == nil {
		in.MinLevel = lvl
	} else {
		in.MinLevel = -1
	}
	if existing != nil {
		// Not editable: the form does not carry them.
		in.ID, in.Public, in.SubjectType, in.SectorIdentifier = existing.ID, existing.Public, cmp.Or(existing.SubjectType, "pairwise"), existing.SectorIdentifier
	}
	if in.Public {
		in.TokenEndpointAuthMethod = clients.AuthNone // a public client has no secret to present
	}
	form := formOf(in)
	// Show durations as typed.
	form.MaxAuthAge, form.AccessLifetime = f.Get("max_auth_age"), f.Get("access_token_lifetime")
	form.RefreshLifetime, form.IDLifetime = f.Get("refresh_token_lifetime"), f.Get("id_token_lifetime")
	form.MinLevel = f.Get("min_level")
	form.JWKS = f.Get("jwks")
	in.Normalize()
	return in, form, errs
}

// withRuleErrors adds, to a form's parse errors, the rules' problems with
// the other fields, so one submission shows every problem at once.
func (a *Admin) withRuleErrors(parse []fieldError, in clientInput, existing *store.Client) []fieldError {
	if len(parse) == 0 {
		return nil // the operation checks the rules itself
	}
	for _, e := range a.registrar().Validate(in, existing) {
		if !slices.ContainsFunc(parse, func(p fieldError) bool { return p.Field == e.Field }) {
			parse = append(parse, e)
		}
	}
	return parse
}

// clientErrors turns the problems of a client form into messages beside
// its fields, in lang. The rules' English details are not shown: each
// problem's key says what is wrong, and a redirect URI problem names the
// URIs (data, not prose) that break the rules.
func (a *Admin) clientErrors(lang string, errs []fieldError, form *clientForm) formErrors {
	var out formErrors
	for _, e := range errs {
		field := e.Field
		if !slices.Contains(clientFields, field) {
			field = "client-form" // not on the form (the API's secret): the form itself
		}
		msg := a.message(lang, clientKey(e))
		switch e.Key {
		case "admin_err_jwks_private":
			// A private key pasted by mistake is not shown back.
			form.JWKS = ""
		case "admin_err_jwks", "admin_err_jwks_fetch", "admin_err_jwks_timeout":
			// What is wrong with the set, or what the URI answered, in
			// the words of the key parser (never key material).
			out.addDetail(field, msg, e.Detail)
			continue
		case "admin_err_id_token_alg":
			// What the server publishes, which the message lists.
			msg = fmt.Sprintf(msg, strings.Join(clients.Algorithms(a.o.SigningAlgorithms), ", "))
		case "admin_err_redirect_uri":
			uris := form.RedirectURIs
			if field == "post_logout_redirect_uris" {
				uris = form.PostLogoutRedirectURIs
			}
			if bad := badURIs(strings.Split(uris, "\n"), form.Public); len(bad) > 0 {
				msg += ": " + strings.Join(bad, ", ")
			}
		}
		out.add(field, msg)
	}
	return out
}

// clientFields are the ids of the client form's fields (admin_client.html).
var clientFields = []string{"id", "name", "logo_url", "redirect_uris", "post_logout_redirect_uris", "token_endpoint_auth_method",
	"min_level", "subject_type", "sector_identifier", "legal_basis", "backchannel_logout_uri", "scopes", "max_auth_age", "access_token_lifetime",
	"refresh_token_lifetime", "id_token_lifetime", "jwks", "jwks_uri", "profile", "access_token_audience", "access_token_format",
	"id_token_signed_response_alg"}

// clientKey is the catalogue key of a client problem: the rules' own key,
// made precise where the rules share one for several fields.
func clientKey(e fieldError) string {
	switch {
	case e.Key == "admin_err_client_invalid" && e.Field == "legal_basis":
		return "admin_err_legal_basis"
	case e.Key == "admin_err_client_invalid" && e.Field == "secret":
		return "admin_err_secret"
	}
	return e.Key
}

// message is the catalogue text of key in lang; a key the catalogue lacks
// (a rule added without its message) shows the generic error, never the
// key or an English detail.
func (a *Admin) message(lang, key string) string {
	if msg, ok := a.rd.Lookup(lang, key); ok {
		return msg
	}
	a.o.Log.Error("console message missing", "key", key, "lang", lang)
	return a.rd.t(lang, "admin_err_invalid")
}

// badURIs are the URIs of a typed list that the clients package refuses
// (or that are listed twice), in order.
func badURIs(typed []string, public bool) []string {
	var bad []string
	seen := map[string]bool{}
	for _, u := range typed {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		if clients.ValidateRedirectURI(u, public) != nil || seen[u] {
			bad = append(bad, u)
		}
		seen[u] = true
	}
	return bad
}
