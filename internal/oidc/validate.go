package oidc

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/citizenid/citizenid/internal/config"
)

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
