package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebAuthnConfig configures passkeys and security keys (WebAuthn).
type WebAuthnConfig struct {
	// RPID is the relying party ID credentials are bound to: the issuer's
	// host or a parent domain of it shared by several portals. Empty means
	// the issuer's host. Changing it makes every registered passkey unusable.
	RPID string `yaml:"rp_id"`
	// RPDisplayName is the name authenticators may show next to a passkey.
	RPDisplayName string `yaml:"rp_display_name"`
	// Origins are further origins (https://host[:port]) whose pages may use
	// the passkeys, besides the issuer's own origin which is always allowed.
	Origins []string `yaml:"origins"`
	// Attestation is the attestation asked for at registration: "none"
	// (default, no authenticator model is disclosed) or "direct".
	Attestation string `yaml:"attestation"`
	// AllowedAAGUIDs, when not empty, lists the only authenticator models
	// (AAGUIDs) that may be registered; it needs attestation "direct".
	AllowedAAGUIDs []string `yaml:"allowed_aaguids"`
	// CeremonyTimeout is how long a registration or login challenge lives.
	CeremonyTimeout time.Duration `yaml:"ceremony_timeout"`
}

func defaultWebAuthn() WebAuthnConfig {
	return WebAuthnConfig{RPDisplayName: "CitizenID", Attestation: "none", CeremonyTimeout: 5 * time.Minute}
}

// WebAuthnRP returns the relying party ID and the allowed origins in
// effect (the issuer's origin first). ok is false when passkeys cannot be
// offered: rp_id is empty and the issuer's host is an IP address, which
// browsers refuse as an RP ID.
func (c *Config) WebAuthnRP() (rpID string, origins []string, ok bool) {
	iss, err := url.Parse(c.Server.Issuer)
	if err != nil || iss.Host == "" {
		return "", nil, false
	}
	rpID = c.WebAuthn.RPID
	if rpID == "" {
		rpID = iss.Hostname()
		if net.ParseIP(rpID) != nil {
			return "", nil, false
		}
	}
	origins = []string{iss.Scheme + "://" + iss.Host}
	for _, o := range c.WebAuthn.Origins {
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return rpID, origins, true
}

// validateWebAuthn reports the problems of the webauthn section.
func (c *Config) validateWebAuthn() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	w := c.WebAuthn
	iss, issErr := url.Parse(c.Server.Issuer)
	if w.RPID != "" {
		switch {
		case net.ParseIP(w.RPID) != nil:
			add("webauthn.rp_id %q: must be a domain name, not an IP address", w.RPID)
		case strings.ContainsAny(w.RPID, ":/?#@ ") || w.RPID != strings.ToLower(w.RPID) ||
			strings.HasPrefix(w.RPID, ".") || strings.HasSuffix(w.RPID, "."):
			add("webauthn.rp_id %q: must be a lowercase domain name without scheme, port or path", w.RPID)
		case issErr == nil && iss.Host != "" && !withinRPID(iss.Hostname(), w.RPID):
			add("webauthn.rp_id %q: must be the issuer's host or a parent domain of it", w.RPID)
		}
	}
	rpID, _, _ := c.WebAuthnRP()
	for _, o := range w.Origins {
		u, err := url.Parse(o)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			add("webauthn.origins: %q must be an origin such as https://portal.example.gov", o)
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			add("webauthn.origins: %q must be an origin only, without path, query or user", o)
		case u.Scheme == "http" && !(c.devMode() && IsLoopbackHost(u.Hostname())):
			add("webauthn.origins: %q must use https (http only for localhost in dev mode)", o)
		case rpID != "" && !withinRPID(u.Hostname(), rpID):
			add("webauthn.origins: the host of %q must be the RP ID %q or a subdomain of it", o, rpID)
		}
	}
	switch w.Attestation {
	case "none", "direct":
	default:
		add("webauthn.attestation %q: none or direct", w.Attestation)
	}
	for _, a := range w.AllowedAAGUIDs {
		if !validUUID(a) {
			add("webauthn.allowed_aaguids: %q is not a UUID", a)
		}
	}
	if len(w.AllowedAAGUIDs) > 0 && w.Attestation != "direct" {
		add("webauthn.allowed_aaguids: needs webauthn.attestation: direct (without attestation the model is only claimed)")
	}
	if w.CeremonyTimeout <= 0 || w.CeremonyTimeout > c.Session.LoginTimeout {
		add("webauthn.ceremony_timeout: a positive duration, at most session.login_timeout")
	}
	return errs
}

// withinRPID reports whether host may use credentials of rpID: it is rpID
// or a subdomain of it.
func withinRPID(host, rpID string) bool {
	host = strings.ToLower(host)
	return host == rpID || strings.HasSuffix(host, "."+rpID)
}

// validUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
