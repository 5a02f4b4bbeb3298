// Package trust loads the certification authorities a CitizenID deployment
// accepts for certificate login: trust anchors and intermediates from PEM
// files or directories, and per-CA revocation policies. It reports every
// problem an operator must fix (bad PEM, an expired anchor, an
// intermediate that chains to no anchor) at once, so `citizenid config
// check` and start-up say the same thing.
//
// It does not validate citizens' certificates (the certificate package
// does) and reads no network.
package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Revocation policies of a CA, weakest first. There is deliberately no
// policy weaker than OCSPOrCRL: level 4 fails closed when neither answers.
const (
	// OCSPOrCRL: a good OCSP answer, or when no OCSP responder answers, a
	// fresh CRL that does not list the certificate.
	OCSPOrCRL = "ocsp_or_crl"
	// OCSPOnly: a good OCSP answer is required; a CRL is never enough.
	OCSPOnly = "ocsp"
	// OCSPAndCRL: a good OCSP answer and a fresh CRL that does not list
	// the certificate.
	OCSPAndCRL = "ocsp_and_crl"
)

// Policies lists the revocation policies, weakest first.
var Policies = []string{OCSPOrCRL, OCSPOnly, OCSPAndCRL}

// CAOptions is the configuration of one issuing CA.
type CAOptions struct {
	// Certificate is a PEM file with the CA's certificate; it must be one
	// of the anchors or intermediates.
	Certificate string
	// OCSPURL replaces the responder named in certificates' AIA.
	OCSPURL string
	// CRLURLs are fetched in the background from the start, besides the
	// distribution points certificates name.
	CRLURLs []string
	// Revocation is one of Policies; empty means OCSPOrCRL.
	Revocation string
	// RequireOCSPNonce refuses OCSP answers that do not echo our nonce.
	RequireOCSPNonce bool
}

// Options says where the certificates are.
type Options struct {
	Anchors       []string // PEM files or directories of them
	Intermediates []string
	CAs           []CAOptions
	// Now is the time anchors and intermediates must be valid at.
	Now time.Time
}

// Policy is how certificates of one issuing CA are checked for revocation.
type Policy struct {
	OCSPURL          string
	CRLURLs          []string
	Revocation       string
	RequireOCSPNonce bool
}

// Set is a loaded trust configuration.
type Set struct {
	Roots         *x509.CertPool
	Intermediates *x509.CertPool
	Anchors       []*x509.Certificate
	Inters        []*x509.Certificate
	policies      map[string]Policy // by SPKIHash of the CA
}

// SPKIHash is the hex SHA-256 of a certificate's SubjectPublicKeyInfo.
func SPKIHash(c *x509.Certificate) string {
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(h[:])
}

// Policy returns the revocation policy for certificates issued by ca.
func (s *Set) Policy(ca *x509.Certificate) Policy {
	if p, ok := s.policies[SPKIHash(ca)]; ok {
		return p
	}
	return Policy{Revocation: OCSPOrCRL}
}

// CAPolicies returns every configured CA with its policy.
func (s *Set) CAPolicies() map[*x509.Certificate]Policy {
	out := map[*x509.Certificate]Policy{}
	for _, c := range slices.Concat(s.Anchors, s.Inters) {
		if p, ok := s.policies[SPKIHash(c)]; ok {
			out[c] = p
		}
	}
	return out
}

// Load reads the certificates and checks them. It returns the set and
// every problem found, joined; the set is usable only when the error is nil.
func Load(o Options) (*Set, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &Set{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), policies: map[string]Policy{}}

	anchors, err := readAll(o.Anchors)
	errs = append(errs, err...)
	inters, err := readAll(o.Intermediates)
	errs = append(errs, err...)
	if len(o.Anchors) == 0 {
		add("anchors: at least one trust anchor is required")
	}
	for _, c := range anchors {
		name := describe(c)
		switch {
		case !c.IsCA || !c.BasicConstraintsValid:
			add("anchor %s: not a CA certificate (basic constraints)", name)
		case o.Now.After(c.NotAfter):
			add("anchor %s: expired on %s", name, c.NotAfter.UTC().Format(time.DateOnly))
		case o.Now.Before(c.NotBefore):
			add("anchor %s: not valid before %s", name, c.NotBefore.UTC().Format(time.DateOnly))
		}
		s.Roots.AddCert(c)
		s.Anchors = append(s.Anchors, c)
	}
	for _, c := range inters {
		s.Intermediates.AddCert(c)
		s.Inters = append(s.Inters, c)
	}
	for _, c := range inters {
		name := describe(c)
		switch {
		case !c.IsCA || !c.BasicConstraintsValid:
			add("intermediate %s: not a CA certificate (basic constraints)", name)
			continue
		case o.Now.After(c.NotAfter):
			add("intermediate %s: expired on %s", name, c.NotAfter.UTC().Format(time.DateOnly))
			continue
		case o.Now.Before(c.NotBefore):
			add("intermediate %s: not valid before %s", name, c.NotBefore.UTC().Format(time.DateOnly))
			continue
		}
		if len(anchors) == 0 {
			continue
		}
		_, err := c.Verify(x509.VerifyOptions{Roots: s.Roots, Intermediates: s.Intermediates,
			CurrentTime: o.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			add("intermediate %s: does not chain to a trust anchor (missing intermediate or anchor?): %v", name, err)
		}
	}

	all := slices.Concat(anchors, inters)
	for i, ca := range o.CAs {
		where := fmt.Sprintf("cas[%d]", i)
		p := Policy{OCSPURL: ca.OCSPURL, CRLURLs: ca.CRLURLs, Revocation: ca.Revocation, RequireOCSPNonce: ca.RequireOCSPNonce}
		if p.Revocation == "" {
			p.Revocation = OCSPOrCRL
		}
		if !slices.Contains(Policies, p.Revocation) {
			add("%s.revocation %q: one of %s (nothing weaker than %s exists)", where, ca.Revocation, strings.Join(Policies, ", "), OCSPOrCRL)
		}
		for _, u := range slices.Concat([]string{ca.OCSPURL}, ca.CRLURLs) {
			if u == "" {
				continue
			}
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				add("%s: %q is not an http(s) URL", where, u)
			}
		}
		if ca.Certificate == "" {
			add("%s.certificate: required (the issuing CA's PEM file)", where)
			continue
		}
		certs, ferrs := readAll([]string{ca.Certificate})
		if len(ferrs) > 0 {
			for _, e := range ferrs {
				add("%s: %v", where, e)
			}
			continue
		}
		if len(certs) != 1 {
			add("%s.certificate %s: want exactly one certificate, got %d", where, ca.Certificate, len(certs))
			continue
		}
		if !slices.ContainsFunc(all, func(c *x509.Certificate) bool { return bytes.Equal(c.Raw, certs[0].Raw) }) {
			add("%s.certificate %s: %s is neither an anchor nor an intermediate", where, ca.Certificate, describe(certs[0]))
			continue
		}
		s.policies[SPKIHash(certs[0])] = p
	}
	return s, errors.Join(errs...)
}

// describe names a CA certificate in messages: its subject (a CA's name,
// never a citizen's) and the start of its fingerprint.
func describe(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%q (sha256 %s…)", c.Subject.String(), hex.EncodeToString(h[:6]))
}

// readAll reads every certificate in the files and directories (files
// ending .pem, .crt or .cer, not recursively), in order, without duplicates.
func readAll(paths []string) ([]*x509.Certificate, []error) {
	var out []*x509.Certificate
	var errs []error
	seen := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		files := []string{p}
		if fi.IsDir() {
			files = nil
			entries, err := os.ReadDir(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
				continue
			}
			for _, e := range entries {
				ext := strings.ToLower(filepath.Ext(e.Name()))
				if !e.IsDir() && (ext == ".pem" || ext == ".crt" || ext == ".cer") {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			if len(files) == 0 {
				errs = append(errs, fmt.Errorf("%s: no .pem, .crt or .cer file in the directory", p))
			}
		}
		for _, f := range files {
			certs, err := ReadPEM(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, c := range certs {
				if k := string(c.Raw); !seen[k] {
					seen[k] = true
					out = append(out, c)
				}
			}
		}
	}
	return out, errs
}

// maxPEMFile bounds a certificate file: a trust store is small.
const maxPEMFile = 16 << 20

// ReadPEM reads the CERTIFICATE blocks of a PEM file. Anything else in the
// file (text between blocks is allowed, as in bundles with comments) that
// looks like PEM but is not a certificate, or a file without any, is an error.
func ReadPEM(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxPEMFile)
	}
	return ParsePEM(path, b)
}

// ParsePEM is ReadPEM on bytes; name is used in messages.
func ParsePEM(name string, b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: bad PEM: block %d is %q, want CERTIFICATE", name, n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: bad PEM: block %d: %w", name, n, err)
		}
		out = append(out, c)
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%s: bad PEM: a block cannot be decoded", name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: bad PEM: no certificate", name)
	}
	return out, nil
}
