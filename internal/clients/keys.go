package clients

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenid/citizenid/internal/clientkeys"
)

// A client's keys (private_key_jwt, signed request objects), its FAPI 2.0
// profile and its access tokens' audience.

// KeyFetcher fetches a jwks_uri now, bypassing any cache
// (clientkeys.Fetcher): a registration checks the URI answers with a
// valid key set before anything is stored.
type KeyFetcher interface {
	Fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error)
}

// urnPattern is an RFC 8141 URN, loosely: urn:NID:NSS, no spaces.
var urnPattern = regexp.MustCompile(`(?i)^urn:[a-z0-9][a-z0-9-]{0,31}:[\x21-\x7e]+$`)

// compactJSON is raw without insignificant white space when it is JSON,
// else raw trimmed (Validate reports it).
func compactJSON(raw string) string {
	raw = strings.TrimSpace(raw)
	var b bytes.Buffer
	if raw == "" || json.Compact(&b, []byte(raw)) != nil {
		return raw
	}
	return b.String()
}

// validateKeys checks the keys, the profile and the audience of a
// normalized spec.
func (s Spec) validateKeys() Errors {
	var errs Errors
	add := func(field, key, detail string) {
		errs = append(errs, FieldError{Field: field, Key: key, Detail: detail})
	}
	switch {
	case s.Public && (s.JWKS != "" || s.JWKSURI != ""):
		add("jwks", "admin_err_jwks_public", "a public client cannot keep a private key: it registers no keys")
	case s.JWKS != "" && s.JWKSURI != "":
		add("jwks", "admin_err_jwks_both", "register a JWKS or a JWKS URI, not both")
	case s.JWKS != "":
		if _, err := clientkeys.Parse([]byte(s.JWKS)); errors.Is(err, clientkeys.ErrPrivateKey) {
			add("jwks", "admin_err_jwks_private", err.Error())
		} else if err != nil {
			add("jwks", "admin_err_jwks", err.Error())
		}
	case s.JWKSURI != "":
		if err := clientkeys.CheckURI(s.JWKSURI); err != nil {
			add("jwks_uri", "admin_err_jwks_uri", err.Error())
		}
	case s.TokenEndpointAuthMethod == AuthPrivateKeyJWT && !s.Public:
		add("jwks", "admin_err_jwks_required", "private_key_jwt needs the client's public keys: a JWKS or a JWKS URI")
	}
	switch s.Profile {
	case "":
	case ProfileFAPI2:
		if s.Public {
			add("profile", "admin_err_fapi2_public", "FAPI 2.0 is for confidential clients only")
		} else if s.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
			add("token_endpoint_auth_method", "admin_err_fapi2_auth", "the fapi2 profile needs private_key_jwt")
		}
		if !s.RequirePAR || !s.RequireDPoP {
			add("profile", "admin_err_fapi2_par_dpop", "the fapi2 profile requires PAR and DPoP")
		}
	default:
		add("profile", "admin_err_profile", `profile: "" (none) or fapi2`)
	}
	if a := s.AccessTokenAudience; a != "" {
		if err := checkAudience(a); err != nil {
			add("access_token_audience", "admin_err_audience", err.Error())
		}
	}
	return errs
}

// checkAudience: an absolute https URI without credentials or fragment,
// or a URN; at most 2048 characters.
func checkAudience(a string) error {
	const msg = "access token audience: an https URI without credentials or fragment, or a URN (urn:…), at most 2048 characters"
	if len(a) > 2048 || strings.ContainsAny(a, " \t\r\n") {
		return errors.New(msg)
	}
	if urnPattern.MatchString(a) {
		return nil
	}
	u, err := url.Parse(a)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(a, "#") {
		return errors.New(msg)
	}
	return nil
}

// checkURIKeys fetches uri once with keys; a problem is a field error of
// jwks_uri.
func checkURIKeys(ctx context.Context, keys KeyFetcher, uri string) Errors {
	if keys == nil {
		keys = clientkeys.NewFetcher(nil, nil)
	}
	_, err := keys.Fetch(ctx, uri)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, clientkeys.ErrTimeout):
		return Errors{{Field: "jwks_uri", Key: "admin_err_jwks_timeout", Detail: err.Error()}}
	case errors.Is(err, clientkeys.ErrPrivateKey):
		return Errors{{Field: "jwks_uri", Key: "admin_err_jwks_uri_private", Detail: "the JWKS URI serves a private key: " + err.Error()}}
	default:
		return Errors{{Field: "jwks_uri", Key: "admin_err_jwks_fetch", Detail: err.Error()}}
	}
}

// KeyInfo describes one key of a client for the CLI and the console.
type KeyInfo struct {
	ID string
	// Algorithms are the key's alg, or every algorithm it fits.
	Algorithms []string
	// Type is the key type with its size or curve: "RSA 2048", "EC P-256",
	// "OKP Ed25519".
	Type string
	// NotAfter is the expiry of the key's certificate (x5c); zero without
	// one.
	NotAfter time.Time
}

// DescribeKeys lists the keys of a set.
func DescribeKeys(set *jose.JSONWebKeySet) []KeyInfo {
	var out []KeyInfo
	for _, k := range set.Keys {
		ki := KeyInfo{ID: k.KeyID}
		for _, alg := range clientkeys.Algorithms {
			if clientkeys.Fits(k, alg) {
				ki.Algorithms = append(ki.Algorithms, string(alg))
			}
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			ki.Type = fmt.Sprintf("RSA %d", pk.N.BitLen())
		case *ecdsa.PublicKey:
			ki.Type = "EC " + pk.Curve.Params().Name
		case ed25519.PublicKey:
			ki.Type = "OKP Ed25519"
		default:
			ki.Type = fmt.Sprintf("%T", k.Key)
		}
		if len(k.Certificates) > 0 {
			ki.NotAfter = k.Certificates[0].NotAfter
		}
		out = append(out, ki)
	}
	return out
}

// StoredKeys parses a client's inline JWKS (nil, nil without one).
func StoredKeys(jwks string) ([]KeyInfo, error) {
	if jwks == "" {
		return nil, nil
	}
	set, err := clientkeys.Parse([]byte(jwks))
	if err != nil {
		return nil, err
	}
	return DescribeKeys(set), nil
}
