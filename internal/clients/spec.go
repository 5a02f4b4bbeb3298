package clients

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/store"
)

// Spec is what an administrator sets on a client, from the CLI's flags,
// the console's form or the API's JSON.
type Spec struct {
	ID                     string
	Name                   string
	LogoURL                string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	// TokenEndpointAuthMethod is client_secret_basic (the default for a
	// confidential client), client_secret_post, private_key_jwt (the
	// client signs assertions with a key of JWKS or JWKSURI, and has no
	// secret), or none (public clients).
	TokenEndpointAuthMethod string
	Scopes                  []string // extra scopes, e.g. citizen_number
	SubjectType             string   // pairwise (default) or public
	SectorIdentifier        string
	MinLevel                int // 1..4; 0 means 1
	MaxAuthAge              time.Duration
	AccessTokenLifetime     time.Duration // 0: the server's default
	RefreshTokenLifetime    time.Duration
	IDTokenLifetime         time.Duration
	// LegalBasis, when set, is the law or mandate under which the portal
	// receives personal data: citizens see a notice naming it instead of
	// being asked to approve (release.CheckLegalBasis).
	LegalBasis string
	// BackchannelLogoutURI receives logout tokens (OpenID Connect
	// Back-Channel Logout 1.0): https, or http on a loopback address for
	// development. BackchannelLogoutSessionRequired: the portal needs the
	// sid claim (always sent).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// JWKS is the portal's public keys, a JSON Web Key Set (stored
	// compact); JWKSURI is where they are fetched instead (checked by one
	// fetch when it is set or changed). At most one; private_key_jwt needs
	// one. Public clients have none.
	JWKS    string
	JWKSURI string
	// RequirePAR: authorization requests only pushed (RFC 9126).
	// RequireDPoP: tokens only bound to a DPoP key (RFC 9449).
	RequirePAR  bool
	RequireDPoP bool
	// Profile is "" or ProfileFAPI2. FAPI 2.0 turns RequirePAR and
	// RequireDPoP on (Normalize) and needs a confidential client with
	// private_key_jwt (Validate refuses another method rather than
	// changing it).
	Profile string
	// AccessTokenAudience is the aud of the client's access tokens, an
	// https URI or a URN; empty: the client ID.
	AccessTokenAudience string
	// AccessTokenFormat is AccessTokenJWT (RFC 9068, the default) or
	// AccessTokenOpaque (a sealed reference a portal's API introspects).
	AccessTokenFormat string
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens
	// (RFC 7591 id_token_signed_response_alg): one the server publishes
	// keys for (Registrar.Algorithms); empty: the server's default.
	IDTokenSignedResponseAlg string
	// Secret is the administrator's own secret (at least MinSecretLength
	// characters); empty means generate one. Only at creation, only for
	// confidential clients.
	Secret string
}

// Token endpoint authentication methods (RFC 7591 names).
const (
	AuthBasic         = "client_secret_basic"
	AuthPost          = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
)

// ProfileFAPI2 is the FAPI 2.0 Security Profile (Spec.Profile).
const ProfileFAPI2 = store.ProfileFAPI2

// Limits of what a client may set.
const (
	MaxURIs            = 20
	MaxAuthAge         = 30 * 24 * time.Hour
	MaxTokenLifetime   = oidc.MaxTokenLifetime
	MaxRefreshLifetime = 90 * 24 * time.Hour
	MinLifetime        = time.Minute
	// MinSecretLength is the shortest client secret accepted.
	MinSecretLength = 32
)

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)
	sectorPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	// ExtraScopes are the scopes beyond the standard ones a client may be
	// allowed.
	ExtraScopes = oidc.ExtraScopes
)

// FieldError is one problem with a spec: the field (as the API and the
// console name it), a catalogue key for the console and an English detail
// for the API and the CLI.
type FieldError struct {
	Field  string `json:"field"`
	Key    string `json:"-"`
	Detail string `json:"detail"`
}

// Errors are every problem with a spec at once.
type Errors []FieldError

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Field + ": " + f.Detail
	}
	return strings.Join(msgs, "\n")
}

// ErrInvalid is what Errors wrap, for errors.Is.
var ErrInvalid = errors.New("invalid client")

func (e Errors) Unwrap() error { return ErrInvalid }

// Normalize trims what people type and fills defaults.
func (s *Spec) Normalize() {
	s.ID = strings.TrimSpace(s.ID)
	s.Name = strings.TrimSpace(s.Name)
	s.LogoURL = strings.TrimSpace(s.LogoURL)
	s.RedirectURIs = cleanList(s.RedirectURIs)
	s.PostLogoutRedirectURIs = cleanList(s.PostLogoutRedirectURIs)
	s.Scopes = cleanList(s.Scopes)
	s.SectorIdentifier = strings.TrimSpace(s.SectorIdentifier)
	s.LegalBasis = strings.TrimSpace(s.LegalBasis)
	s.BackchannelLogoutURI = strings.TrimSpace(s.BackchannelLogoutURI)
	s.SubjectType = cmp.Or(s.SubjectType, "pairwise")
	s.JWKS = compactJSON(s.JWKS)
	s.JWKSURI = strings.TrimSpace(s.JWKSURI)
	s.Profile = strings.TrimSpace(s.Profile)
	s.AccessTokenAudience = strings.TrimSpace(s.AccessTokenAudience)
	s.AccessTokenFormat = cmp.Or(strings.TrimSpace(s.AccessTokenFormat), AccessTokenJWT)
	s.IDTokenSignedResponseAlg = strings.TrimSpace(s.IDTokenSignedResponseAlg)
	if s.Profile == ProfileFAPI2 {
		// What FAPI 2.0 only tightens is turned on; a method it forbids is
		// refused by Validate, never silently changed.
		s.RequirePAR, s.RequireDPoP = true, true
		if !s.Public {
			s.TokenEndpointAuthMethod = cmp.Or(s.TokenEndpointAuthMethod, AuthPrivateKeyJWT)
		}
	}
	if s.Public {
		s.TokenEndpointAuthMethod = cmp.Or(s.TokenEndpointAuthMethod, AuthNone)
	} else {
		s.TokenEndpointAuthMethod = cmp.Or(s.TokenEndpointAuthMethod, AuthBasic)
	}
	if s.MinLevel == 0 {
		s.MinLevel = 1
	}
}

func cleanList(l []string) []string {
	var out []string
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate reports every problem of a normalized spec at once. existing
// is the stored client when editing: its ID, type, subject type and
// sector cannot change (the subjects portals know citizens by would
// change with them), and no secret is set by an edit. algorithms are the
// ID token signing algorithms the server publishes keys for (Algorithms:
// DefaultAlgorithm alone when empty).
func (s Spec) Validate(existing *store.Client, algorithms []string) Errors {
	var errs Errors
	add := func(field, key, detail string) {
		errs = append(errs, FieldError{Field: field, Key: key, Detail: detail})
	}
	if existing == nil && !idPattern.MatchString(s.ID) {
		add("id", "admin_err_client_id", "2 to 64 of a-z 0-9 . _ -, starting with a letter or digit")
	}
	if n := utf8.RuneCountInString(s.Name); n == 0 || n > 200 {
		add("name", "admin_err_client_name", "1 to 200 characters")
	}
	if s.LogoURL != "" {
		u, err := url.Parse(s.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(s.LogoURL) > 2048 {
			add("logo_url", "admin_err_logo_url", "an https URL without credentials or fragment, at most 2048 characters")
		}
	}
	if len(s.RedirectURIs) == 0 || len(s.RedirectURIs) > MaxURIs {
		add("redirect_uris", "admin_err_redirect_count", fmt.Sprintf("1 to %d redirect URIs", MaxURIs))
	}
	checkURIs := func(field string, uris []string) {
		seen := map[string]bool{}
		for _, u := range uris {
			if err := ValidateRedirectURI(u, s.Public); err != nil {
				add(field, "admin_err_redirect_uri", err.Error())
			} else if seen[u] {
				add(field, "admin_err_redirect_uri", fmt.Sprintf("redirect URI %q is listed twice", u))
			}
			seen[u] = true
		}
	}
	checkURIs("redirect_uris", s.RedirectURIs)
	if len(s.PostLogoutRedirectURIs) > MaxURIs {
		add("post_logout_redirect_uris", "admin_err_redirect_count", fmt.Sprintf("at most %d post-logout redirect URIs", MaxURIs))
	}
	checkURIs("post_logout_redirect_uris", s.PostLogoutRedirectURIs)
	switch {
	case s.Public && s.TokenEndpointAuthMethod != AuthNone:
		add("token_endpoint_auth_method", "admin_err_auth_method", "a public client authenticates with none (PKCE)")
	case !s.Public && !slices.Contains([]string{AuthBasic, AuthPost, AuthPrivateKeyJWT}, s.TokenEndpointAuthMethod):
		add("token_endpoint_auth_method", "admin_err_auth_method", "client_secret_basic, client_secret_post or private_key_jwt")
	}
	errs = append(errs, s.validateKeys()...)
	errs = append(errs, s.validateTokens(algorithms)...)
	for _, sc := range s.Scopes {
		if !slices.Contains(ExtraScopes, sc) {
			add("scopes", "admin_err_scope", fmt.Sprintf("scope %q: unknown (known extra scopes: %s)", sc, strings.Join(ExtraScopes, ", ")))
		}
	}
	switch s.SubjectType {
	case "pairwise":
		if s.SectorIdentifier != "" && !sectorPattern.MatchString(s.SectorIdentifier) {
			add("sector_identifier", "admin_err_sector", "1 to 255 printable ASCII characters without spaces")
		}
	case "public":
		if s.SectorIdentifier != "" {
			add("sector_identifier", "admin_err_sector", "a sector applies to pairwise subjects only")
		}
	default:
		add("subject_type", "admin_err_subject_type", "pairwise or public")
	}
	if s.MinLevel < 1 || s.MinLevel > 4 {
		add("min_level", "admin_err_min_level", "1 to 4")
	}
	if s.MaxAuthAge < 0 || s.MaxAuthAge > MaxAuthAge {
		add("max_auth_age", "admin_err_duration", fmt.Sprintf("maximum authentication age: 0 (no limit) to %v", MaxAuthAge))
	}
	lifetime := func(field string, d, maxD time.Duration) {
		if d != 0 && (d < MinLifetime || d > maxD) {
			add(field, "admin_err_duration", fmt.Sprintf("%s: 0 (the default) or %v to %v", field, MinLifetime, maxD))
		}
	}
	lifetime("access_token_lifetime", s.AccessTokenLifetime, MaxTokenLifetime)
	lifetime("id_token_lifetime", s.IDTokenLifetime, MaxTokenLifetime)
	lifetime("refresh_token_lifetime", s.RefreshTokenLifetime, MaxRefreshLifetime)
	if s.BackchannelLogoutURI != "" {
		if err := ValidateBackchannelURI(s.BackchannelLogoutURI); err != nil {
			add("backchannel_logout_uri", "admin_err_backchannel_uri", err.Error())
		}
	} else if s.BackchannelLogoutSessionRequired {
		add("backchannel_logout_uri", "admin_err_backchannel_uri", "backchannel_logout_session_required needs a back-channel logout URI")
	}
	if err := release.CheckLegalBasis(s.LegalBasis); err != nil {
		add("legal_basis", "admin_err_client_invalid", err.Error())
	}
	if s.Secret != "" && (s.Public || existing != nil) {
		add("secret", "admin_err_client_invalid", "a secret is set only when registering a confidential client")
	} else if s.Secret != "" && s.TokenEndpointAuthMethod == AuthPrivateKeyJWT {
		add("secret", "admin_err_secret_keys", "a private_key_jwt client authenticates with its keys and has no secret")
	} else if s.Secret != "" && len(s.Secret) < MinSecretLength {
		add("secret", "admin_err_client_invalid", fmt.Sprintf("client secret: at least %d characters", MinSecretLength))
	}
	if existing != nil {
		if s.Public != existing.Public || s.SubjectType != cmp.Or(existing.SubjectType, "pairwise") ||
			s.SectorIdentifier != existing.SectorIdentifier {
			add("subject_type", "admin_err_immutable", "public, subject_type and sector_identifier cannot change; register a new client")
		}
	}
	return errs
}

// Apply sets the spec's fields on c; ID, type, subject type and sector
// only when c is new.
func (s Spec) Apply(c *store.Client, isNew bool) {
	if isNew {
		c.ID, c.Public, c.SubjectType, c.SectorIdentifier = s.ID, s.Public, s.SubjectType, s.SectorIdentifier
	}
	c.Name = s.Name
	c.LogoURL = s.LogoURL
	c.RedirectURIs = s.RedirectURIs
	c.PostLogoutRedirectURIs = s.PostLogoutRedirectURIs
	c.TokenEndpointAuthMethod = s.TokenEndpointAuthMethod
	c.Scopes = s.Scopes
	c.MinLevel = s.MinLevel
	c.MaxAuthAge = s.MaxAuthAge
	c.AccessTokenLifetime = s.AccessTokenLifetime
	c.RefreshTokenLifetime = s.RefreshTokenLifetime
	c.IDTokenLifetime = s.IDTokenLifetime
	c.LegalBasis = s.LegalBasis
	c.BackchannelLogoutURI = s.BackchannelLogoutURI
	c.BackchannelLogoutSessionRequired = s.BackchannelLogoutSessionRequired
	c.JWKS, c.JWKSURI = s.JWKS, s.JWKSURI
	c.RequirePAR, c.RequireDPoP = s.RequirePAR, s.RequireDPoP
	c.Profile = s.Profile
	c.AccessTokenAudience = s.AccessTokenAudience
	c.AccessTokenFormat, c.IDTokenSignedResponseAlg = s.AccessTokenFormat, s.IDTokenSignedResponseAlg
	if s.TokenEndpointAuthMethod == AuthPrivateKeyJWT {
		// A client that proves itself with its keys keeps no secret that
		// could still be stolen and used.
		c.SecretHash, c.PreviousSecretHash, c.PreviousSecretUntil = "", "", time.Time{}
	}
}

// SpecOf is the (normalized) spec that would produce c as it is.
func SpecOf(c *store.Client) Spec {
	s := Spec{ID: c.ID, Name: c.Name, LogoURL: c.LogoURL, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Public: c.Public, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		Scopes: c.Scopes, SubjectType: c.SubjectType, SectorIdentifier: c.SectorIdentifier, MinLevel: c.MinLevel,
		MaxAuthAge: c.MaxAuthAge, AccessTokenLifetime: c.AccessTokenLifetime, RefreshTokenLifetime: c.RefreshTokenLifetime,
		IDTokenLifetime: c.IDTokenLifetime, LegalBasis: c.LegalBasis, BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired, JWKS: c.JWKS, JWKSURI: c.JWKSURI,
		RequirePAR: c.RequirePAR, RequireDPoP: c.RequireDPoP, Profile: c.Profile, AccessTokenAudience: c.AccessTokenAudience,
		AccessTokenFormat: c.AccessTokenFormat, IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg}
	s.Normalize()
	return s
}

// ValidateBackchannelURI checks a back-channel logout URI: absolute, no
// fragment or credentials, https, or http only on a loopback address
// (the server POSTs to it from the server side).
func ValidateBackchannelURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || len(uri) > 2048 {
		return fmt.Errorf("back-channel logout URI %q: an absolute URL without credentials or fragment, at most 2048 characters", uri)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if config.IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("back-channel logout URI %q: https (http only on a loopback address)", uri)
}

// ValidateRedirectURI checks a redirect URI an administrator registers:
// absolute, no fragment, no wildcard, no credentials; https, or http only
// for loopback (native apps and development); custom schemes only for
// public (native) clients.
func ValidateRedirectURI(uri string, public bool) error {
	if uri == "" || len(uri) > 2048 {
		return errors.New("redirect URI must be 1 to 2048 characters")
	}
	if strings.ContainsAny(uri, "*") {
		return fmt.Errorf("redirect URI %q: wildcards are not allowed", uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("redirect URI %q: %w", uri, err)
	}
	switch {
	case !u.IsAbs():
		return fmt.Errorf("redirect URI %q: must be absolute", uri)
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return fmt.Errorf("redirect URI %q: must not contain a fragment", uri)
	case u.User != nil:
		return fmt.Errorf("redirect URI %q: must not contain credentials", uri)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("redirect URI %q: missing host", uri)
		}
	case "http":
		if !config.IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("redirect URI %q: http is allowed only for loopback addresses", uri)
		}
	default:
		if !public {
			return fmt.Errorf("redirect URI %q: custom schemes are allowed only for public (native) clients", uri)
		}
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("redirect URI %q: a custom scheme must be a reverse domain name (RFC 8252 §7.1)", uri)
		}
	}
	return nil
}
