package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
)

// CertificateConfig configures login with a signature certificate (level 4).
type CertificateConfig struct {
	Enabled bool `yaml:"enabled"`
	// Anchors and Intermediates are PEM files, or directories of .pem,
	// .crt and .cer files, of the certification authorities accepted.
	Anchors       []string `yaml:"anchors"`
	Intermediates []string `yaml:"intermediates"`
	// CAs are per-CA revocation settings, keyed by the issuing CA's file.
	CAs        []CertificateCAConfig       `yaml:"cas"`
	Profile    CertificateProfileConfig    `yaml:"profile"`
	Mapping    CertificateMappingConfig    `yaml:"mapping"`
	Revocation CertificateRevocationConfig `yaml:"revocation"`
	// ChallengeTTL is how long a nonce may be signed, and a certificate
	// received on the TLS listener kept for the login page.
	ChallengeTTL time.Duration `yaml:"challenge_ttl"`
	// TLS is the client-certificate listener.
	TLS CertificateTLSConfig `yaml:"tls"`
}

// CertificateCAConfig is one issuing CA's revocation policy.
type CertificateCAConfig struct {
	Certificate      string   `yaml:"certificate"`
	OCSPURL          string   `yaml:"ocsp_url"`
	CRLURLs          []string `yaml:"crl_urls"`
	Revocation       string   `yaml:"revocation"`
	RequireOCSPNonce bool     `yaml:"require_ocsp_nonce"`
}

// CertificateProfileConfig is what a citizen's certificate must be.
type CertificateProfileConfig struct {
	KeyUsage   []string `yaml:"key_usage"`
	MinRSABits int      `yaml:"min_rsa_bits"`
	Curves     []string `yaml:"curves"`
}

// CertificateMappingConfig finds the citizen number in a certificate.
type CertificateMappingConfig struct {
	Attribute string `yaml:"attribute"`
	Pattern   string `yaml:"pattern"`
}

// CertificateRevocationConfig holds OCSP and CRL settings.
type CertificateRevocationConfig struct {
	OCSPTimeout  time.Duration `yaml:"ocsp_timeout"`
	OCSPMaxAge   time.Duration `yaml:"ocsp_max_age"`
	OCSPCacheMax time.Duration `yaml:"ocsp_cache_max"`
	ClockSkew    time.Duration `yaml:"clock_skew"`
	CRLRefresh   time.Duration `yaml:"crl_refresh"`
	CRLTimeout   time.Duration `yaml:"crl_timeout"`
	CRLMaxBytes  int64         `yaml:"crl_max_bytes"`
}

// CertificateTLSConfig is the client-certificate listener.
type CertificateTLSConfig struct {
	// URL is the listener's public base URL, on its own host name; empty
	// means no listener (signed challenges only).
	URL            string   `yaml:"url"`
	Listen         string   `yaml:"listen"`
	CertFile       string   `yaml:"cert_file"`
	KeyFile        string   `yaml:"key_file"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	Header         string   `yaml:"header"`
}

// DefaultCertificatePattern is certificate.DefaultPattern (kept in step;
// a test checks it).
const DefaultCertificatePattern = `^(?:(?:CCCD|CMND|CC)[:\-]?)?([0-9]{12})$`

func defaultCertificate() CertificateConfig {
	return CertificateConfig{
		Profile: CertificateProfileConfig{
			KeyUsage:   []string{"digital_signature", "non_repudiation"},
			MinRSABits: 2048,
			Curves:     []string{"P-256", "P-384"},
		},
		Mapping: CertificateMappingConfig{Attribute: "serialNumber", Pattern: DefaultCertificatePattern},
		Revocation: CertificateRevocationConfig{
			OCSPTimeout:  3 * time.Second,
			OCSPMaxAge:   time.Hour,
			OCSPCacheMax: 24 * time.Hour,
			ClockSkew:    time.Minute,
			CRLRefresh:   time.Hour,
			CRLTimeout:   30 * time.Second,
			CRLMaxBytes:  64 << 20,
		},
		ChallengeTTL: 5 * time.Minute,
		TLS:          CertificateTLSConfig{Header: "X-Client-Certificate"},
	}
}

// MaxOCSPTimeout bounds certificate.revocation.ocsp_timeout: a login must
// never hang on a slow responder.
const MaxOCSPTimeout = 10 * time.Second

var oidPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)+$`)

// validateCertificate checks the section; the trust files are read only
// when certificate login is enabled.
func (c *Config) validateCertificate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	cc := c.Certificate
	for _, ku := range cc.Profile.KeyUsage {
		switch strings.ToLower(ku) {
		case "digital_signature", "non_repudiation":
		default:
			add("certificate.profile.key_usage %q: digital_signature or non_repudiation", ku)
		}
	}
	if len(cc.Profile.KeyUsage) == 0 {
		add("certificate.profile.key_usage: at least one of digital_signature, non_repudiation")
	}
	if cc.Profile.MinRSABits < 2048 || cc.Profile.MinRSABits > 16384 {
		add("certificate.profile.min_rsa_bits %d: from 2048 to 16384", cc.Profile.MinRSABits)
	}
	for _, cv := range cc.Profile.Curves {
		if cv != "P-256" && cv != "P-384" {
			add("certificate.profile.curves %q: P-256 or P-384", cv)
		}
	}
	switch a := cc.Mapping.Attribute; {
	case strings.EqualFold(a, "serialNumber"), strings.EqualFold(a, "UID"), oidPattern.MatchString(a):
	default:
		add("certificate.mapping.attribute %q: serialNumber, UID or a dotted OID", a)
	}
	if re, err := regexp.Compile(cc.Mapping.Pattern); err != nil {
		add("certificate.mapping.pattern: %v", err)
	} else if re.NumSubexp() < 1 {
		add("certificate.mapping.pattern: needs a capture group for the 12-digit citizen number")
	}
	r := cc.Revocation
	for name, d := range map[string]time.Duration{
		"ocsp_timeout": r.OCSPTimeout, "ocsp_max_age": r.OCSPMaxAge, "ocsp_cache_max": r.OCSPCacheMax,
		"crl_refresh": r.CRLRefresh, "crl_timeout": r.CRLTimeout,
	} {
		if d <= 0 {
			add("certificate.revocation.%s: must be a positive duration", name)
		}
	}
	if r.OCSPTimeout > MaxOCSPTimeout {
		add("certificate.revocation.ocsp_timeout: at most %v, a login must not hang on a slow responder", MaxOCSPTimeout)
	}
	if r.ClockSkew < 0 || r.ClockSkew > 10*time.Minute {
		add("certificate.revocation.clock_skew: from 0 to 10m")
	}
	if r.CRLMaxBytes < 1<<10 {
		add("certificate.revocation.crl_max_bytes: at least 1024")
	}
	if cc.ChallengeTTL <= 0 || cc.ChallengeTTL > 15*time.Minute {
		add("certificate.challenge_ttl: from 1s to 15m")
	}
	errs = append(errs, c.validateCertificateTLS()...)
	if !cc.Enabled {
		// The CA entries' files are not read; their policies are still checked.
		for i, ca := range cc.CAs {
			if ca.Revocation != "" && !slices.Contains(trust.Policies, ca.Revocation) {
				add("certificate.cas[%d].revocation %q: one of %s (nothing weaker than %s exists)", i, ca.Revocation,
					strings.Join(trust.Policies, ", "), trust.OCSPOrCRL)
			}
		}
		return errs
	}
	_, err := trust.Load(trust.Options{Anchors: cc.Anchors, Intermediates: cc.Intermediates, CAs: c.CertificateCAs()})
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			add("certificate: %s", line)
		}
	}
	return errs
}

func (c *Config) validateCertificateTLS() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	t := c.Certificate.TLS
	for _, p := range t.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			if pre.Bits() == 0 {
				add("certificate.tls.trusted_proxies: %q would believe a certificate header from anyone", p)
			}
		} else if _, err := netip.ParseAddr(p); err != nil {
			add("certificate.tls.trusted_proxies: %q is neither an IP address nor a CIDR", p)
		}
	}
	if t.URL == "" {
		if t.Listen != "" {
			add("certificate.tls.listen: set certificate.tls.url too (the listener's public URL)")
		}
		return errs
	}
	u, err := url.Parse(t.URL)
	iss, _ := url.Parse(c.Server.Issuer)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		add("certificate.tls.url %q: must be an absolute https URL", t.URL)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		add("certificate.tls.url %q: a base URL, no path, query or user info", t.URL)
	case iss != nil && u.Host == iss.Host:
		add("certificate.tls.url %q: needs its own host name (or port), not the issuer's", t.URL)
	case iss != nil && u.Hostname() == iss.Hostname() && !c.devMode():
		add("certificate.tls.url %q: needs its own host name, not the issuer's: the browser's certificate prompt must not appear on the main site", t.URL)
	}
	if _, port, err := net.SplitHostPort(t.Listen); err != nil {
		add("certificate.tls.listen %q: %v", t.Listen, err)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		add("certificate.tls.listen %q: needs a port from 0 to 65535", t.Listen)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		add("certificate.tls: set cert_file and key_file together")
	}
	if t.CertFile == "" && len(t.TrustedProxies) == 0 {
		add("certificate.tls: without cert_file/key_file the listener speaks plain HTTP, which only makes sense behind a TLS-terminating proxy listed in trusted_proxies")
	}
	if len(t.TrustedProxies) > 0 && t.Header == "" {
		add("certificate.tls.header: required with trusted_proxies")
	}
	return errs
}

// CertificateCAs returns the per-CA settings as the trust package takes them.
func (c *Config) CertificateCAs() []trust.CAOptions {
	var out []trust.CAOptions
	for _, ca := range c.Certificate.CAs {
		out = append(out, trust.CAOptions{Certificate: ca.Certificate, OCSPURL: ca.OCSPURL, CRLURLs: ca.CRLURLs,
			Revocation: ca.Revocation, RequireOCSPNonce: ca.RequireOCSPNonce})
	}
	return out
}
