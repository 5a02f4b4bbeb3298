package oidc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// ClientSpec is what registering a portal takes.
type ClientSpec struct {
	ID                     string
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	// Secret is the administrator's own secret (at least 32 characters);
	// empty means generate one. Ignored for public clients.
	Secret           string
	Scopes           []string // extra scopes, e.g. citizen_number
	SubjectType      string   // pairwise (default) or public
	SectorIdentifier string
	MinLevel         int
	MaxAuthAge       time.Duration
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// MinSecretLength is the shortest client secret accepted.
const MinSecretLength = 32

// Validate reports every problem with the spec at once.
func (s ClientSpec) Validate() error {
	var errs []error
	if !clientIDPattern.MatchString(s.ID) {
		errs = append(errs, errors.New("client id: 2 to 64 of a-z 0-9 . _ -, starting with a letter or digit"))
	}
	if n := strings.TrimSpace(s.Name); n == "" || len(n) > 200 {
		errs = append(errs, errors.New("name: 1 to 200 characters"))
	}
	if len(s.RedirectURIs) == 0 {
		errs = append(errs, errors.New("at least one redirect URI is required"))
	}
	for _, u := range s.RedirectURIs {
		if err := ValidateRedirectURI(u, s.Public); err != nil {
			errs = append(errs, err)
		}
	}
	for _, u := range s.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u, s.Public); err != nil {
			errs = append(errs, fmt.Errorf("post-logout: %w", err))
		}
	}
	if !s.Public && s.Secret != "" && len(s.Secret) < MinSecretLength {
		errs = append(errs, fmt.Errorf("client secret: at least %d characters", MinSecretLength))
	}
	for _, sc := range s.Scopes {
		if !slices.Contains(extraScopes, sc) {
			errs = append(errs, fmt.Errorf("scope %q: unknown (known extra scopes: %s)", sc, strings.Join(extraScopes, ", ")))
		}
	}
	switch s.SubjectType {
	case "", "pairwise", "public":
	default:
		errs = append(errs, fmt.Errorf("subject type %q: pairwise or public", s.SubjectType))
	}
	if s.MinLevel < 0 || s.MinLevel > 4 {
		errs = append(errs, errors.New("minimum level: 1 to 4"))
	}
	if s.MaxAuthAge < 0 {
		errs = append(errs, errors.New("maximum authentication age must not be negative"))
	}
	return errors.Join(errs...)
}

// extraScopes are scopes a client must be configured for.
var extraScopes = []string{ScopeCitizenNumber, ScopeCertificate}

// CreateClient validates spec and stores the client. It returns the secret
// to show once (empty for public clients); only its hash is stored.
func CreateClient(ctx context.Context, st store.Clients, spec ClientSpec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	secret := ""
	if !spec.Public {
		secret = spec.Secret
		if secret == "" {
			secret = session.RandomToken(32)
		}
	}
	c := &store.Client{
		ID:                     spec.ID,
		Name:                   strings.TrimSpace(spec.Name),
		Public:                 spec.Public,
		RedirectURIs:           spec.RedirectURIs,
		PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs,
		Scopes:                 spec.Scopes,
		SubjectType:            cmp.Or(spec.SubjectType, "pairwise"),
		SectorIdentifier:       spec.SectorIdentifier,
		MinLevel:               max(spec.MinLevel, 1),
		MaxAuthAge:             spec.MaxAuthAge,
	}
	if secret != "" {
		c.SecretHash = HashClientSecret(secret)
	}
	if err := st.CreateClient(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", fmt.Errorf("a client with id %q already exists: %w", spec.ID, store.ErrConflict)
		}
		return "", err
	}
	return secret, nil
}
