package saml

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/store"
)

// NameID formats a service provider may be given.
const (
	NameIDPersistent = string(saml.PersistentNameIDFormat)
	NameIDTransient  = string(saml.TransientNameIDFormat)
	// NameIDCitizenNumber puts the citizen number in the NameID: only for
	// service providers allowed the citizen number.
	NameIDCitizenNumber = "urn:citizenid:nameid-format:citizen-number"
	nameIDUnspecified   = string(saml.UnspecifiedNameIDFormat)
	nameIDEncrypted     = "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"
)

// Attributes a service provider may be released.
const (
	AttrName          = "name"
	AttrBirthdate     = "birthdate"
	AttrIdentityLevel = "identity_level"
	AttrCitizenNumber = "citizen_number"
)

// KnownAttributes lists the attributes CitizenID can release.
var KnownAttributes = []string{AttrName, AttrBirthdate, AttrIdentityLevel, AttrCitizenNumber}

// MaxMetadataSize is the largest SP metadata document accepted, in bytes.
const MaxMetadataSize = 1 << 20

// SPSpec is what registering a service provider takes.
type SPSpec struct {
	MetadataXML []byte
	// Name is shown to citizens; empty means the metadata's organization
	// display name, or the entity ID.
	Name string
	// MinLevel is the minimum authentication level, 1..4; 0 means 1.
	MinLevel int
	// Attributes to release; nil means identity_level only.
	Attributes []string
	// NameIDFormat: persistent (pairwise, the default), transient,
	// citizen-number, or the format URI; empty means the first of the
	// metadata's NameIDFormats CitizenID issues, else persistent.
	NameIDFormat          string
	AllowCitizenNumber    bool
	EncryptAssertions     bool
	RequireSignedRequests bool
	AllowIdPInitiated     bool
	// LegalBasis, when set, makes the consent page a notice naming it
	// (release.CheckLegalBasis).
	LegalBasis string
}

// NewServiceProvider checks spec against its metadata and returns the
// record to store, or every problem at once.
func NewServiceProvider(spec SPSpec) (*store.ServiceProvider, error) {
	ed, err := ParseSPMetadata(spec.MetadataXML)
	if err != nil {
		return nil, err
	}
	var errs []error
	sp := &store.ServiceProvider{
		EntityID:              ed.EntityID,
		Name:                  strings.TrimSpace(spec.Name),
		MetadataXML:           spec.MetadataXML,
		MinLevel:              max(spec.MinLevel, 1),
		AllowCitizenNumber:    spec.AllowCitizenNumber,
		EncryptAssertions:     spec.EncryptAssertions,
		RequireSignedRequests: spec.RequireSignedRequests,
		AllowIdPInitiated:     spec.AllowIdPInitiated,
		LegalBasis:            strings.TrimSpace(spec.LegalBasis),
	}
	if err := release.CheckLegalBasis(sp.LegalBasis); err != nil {
		errs = append(errs, err)
	}
	if sp.Name == "" {
		sp.Name = displayName(ed)
	}
	if utf8.RuneCountInString(sp.Name) > 200 || !utf8.ValidString(sp.Name) {
		errs = append(errs, errors.New("name: at most 200 characters"))
	}
	if spec.MinLevel < 0 || spec.MinLevel > 4 {
		errs = append(errs, errors.New("minimum level: 1 to 4"))
	}

	for _, d := range ed.SPSSODescriptors {
		for _, ep := range d.AssertionConsumerServices {
			if ep.Binding != saml.HTTPPostBinding {
				continue
			}
			if err := checkEndpoint(ep.Location); err != nil {
				errs = append(errs, fmt.Errorf("assertion consumer service %q: %w", ep.Location, err))
				continue
			}
			if !slices.Contains(sp.ACSURLs, ep.Location) {
				sp.ACSURLs = append(sp.ACSURLs, ep.Location)
			}
		}
		if d.AuthnRequestsSigned != nil && *d.AuthnRequestsSigned {
			sp.RequireSignedRequests = true
		}
	}
	if len(sp.ACSURLs) == 0 {
		errs = append(errs, errors.New("the metadata has no HTTP-POST AssertionConsumerService"))
	}

	sp.Attributes = spec.Attributes
	if sp.Attributes == nil {
		sp.Attributes = []string{AttrIdentityLevel}
	}
	for _, a := range sp.Attributes {
		switch {
		case !slices.Contains(KnownAttributes, a):
			errs = append(errs, fmt.Errorf("attribute %q: not one of %s", a, strings.Join(KnownAttributes, ", ")))
		case a == AttrCitizenNumber && !sp.AllowCitizenNumber:
			errs = append(errs, errors.New("attribute citizen_number needs --allow-citizen-number"))
		}
	}
	sp.Attributes = slices.Compact(sp.Attributes)

	switch f := spec.NameIDFormat; f {
	case "":
		sp.NameIDFormat = NameIDPersistent
		for _, d := range ed.SPSSODescriptors {
			if formats := d.NameIDFormats; len(formats) > 0 && string(formats[0]) == NameIDTransient {
				sp.NameIDFormat = NameIDTransient
			}
		}
	case "persistent", NameIDPersistent:
		sp.NameIDFormat = NameIDPersistent
	case "transient", NameIDTransient:
		sp.NameIDFormat = NameIDTransient
	case "citizen-number", NameIDCitizenNumber:
		sp.NameIDFormat = NameIDCitizenNumber
		if !sp.AllowCitizenNumber {
			errs = append(errs, errors.New("the citizen-number NameID format needs --allow-citizen-number"))
		}
	default:
		errs = append(errs, fmt.Errorf("NameID format %q: persistent, transient or citizen-number", f))
	}

	if sp.EncryptAssertions {
		if _, err := certificates(ed, "encryption"); err != nil {
			errs = append(errs, fmt.Errorf("encrypted assertions: %w", err))
		}
	}
	if sp.RequireSignedRequests {
		if _, err := certificates(ed, "signing"); err != nil {
			errs = append(errs, fmt.Errorf("signed requests: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sp, nil
}

// Register checks spec and stores the service provider. store.ErrConflict
// when the entity ID is registered already.
func Register(ctx context.Context, st store.ServiceProviders, spec SPSpec) (*store.ServiceProvider, error) {
	sp, err := NewServiceProvider(spec)
	if err != nil {
		return nil, err
	}
	if err := st.CreateServiceProvider(ctx, sp); err != nil {
		return nil, err
	}
	return sp, nil
}

// ParseSPMetadata reads a service provider's metadata: one
// EntityDescriptor with an SPSSODescriptor, at most MaxMetadataSize bytes,
// without a DTD.
func ParseSPMetadata(b []byte) (*saml.EntityDescriptor, error) {
	if len(b) > MaxMetadataSize {
		return nil, fmt.Errorf("metadata: larger than %d bytes", MaxMetadataSize)
	}
	if err := checkXML(b); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	ed := new(saml.EntityDescriptor)
	if err := xml.Unmarshal(b, ed); err != nil {
		return nil, fmt.Errorf("metadata: not a SAML EntityDescriptor: %w", err)
	}
	switch {
	case ed.EntityID == "" || len(ed.EntityID) > 1024 || strings.TrimSpace(ed.EntityID) != ed.EntityID:
		return nil, errors.New("metadata: the entityID is missing or malformed")
	case len(ed.SPSSODescriptors) == 0:
		return nil, errors.New("metadata: no SPSSODescriptor (is this an IdP's metadata?)")
	}
	return ed, nil
}

// checkEndpoint accepts https URLs, and http ones on a loopback host (a
// portal under development).
func checkEndpoint(location string) error {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("must be https (http only on a loopback host)")
}

func displayName(ed *saml.EntityDescriptor) string {
	if ed.Organization != nil {
		for _, n := range ed.Organization.OrganizationDisplayNames {
			if v := strings.TrimSpace(n.Value); v != "" {
				return v
			}
		}
	}
	return ed.EntityID
}

// certificates returns the SP's certificates for use ("signing" or
// "encryption"; a key descriptor without a use serves both).
func certificates(ed *saml.EntityDescriptor, use string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, d := range ed.SPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != use {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					return nil, fmt.Errorf("a %s certificate is not base64", use)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("a %s certificate does not parse: %w", use, err)
				}
				out = append(out, cert)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the metadata has no %s certificate", use)
	}
	return out, nil
}

// spProvider is the registered service providers as crewjam asks for them.
type spProvider struct{ p *Provider }

func (s spProvider) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	_, ed, err := s.p.serviceProvider(r.Context(), entityID)
	return ed, err
}

// errUnknownSP matches os.ErrNotExist, which crewjam expects for an SP it
// does not know.
var errUnknownSP = fmt.Errorf("saml: unknown or disabled service provider: %w", os.ErrNotExist)

// serviceProvider loads an enabled service provider and its metadata as
// the IdP applies it: only the registered HTTP-POST ACS endpoints,
// AuthnRequestsSigned when the SP must sign its requests, and no
// encryption key unless assertions are to be encrypted (crewjam encrypts
// whenever the metadata has one). The metadata is shared (see
// appliedMetadata): callers must not modify it.
func (p *Provider) serviceProvider(ctx context.Context, entityID string) (*store.ServiceProvider, *saml.EntityDescriptor, error) {
	if entityID == "" || len(entityID) > 1024 {
		return nil, nil, errUnknownSP
	}
	sp, err := p.o.Store.ServiceProviderByEntityID(ctx, entityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errUnknownSP
	} else if err != nil {
		return nil, nil, err
	}
	if sp.Disabled {
		return nil, nil, errUnknownSP
	}
	ed, err := p.applied.get(sp)
	if err != nil {
		return nil, nil, fmt.Errorf("service provider %s: %w", entityID, err)
	}
	return sp, ed, nil
}

// appliedMetadata keeps service providers' metadata as the IdP applies it
// (apply), by what it is made from: the stored XML and the registration's
// entity ID, ACS URLs and flags. Parsing the XML took about an eighth of
// a SAML SSO's CPU, for each of a request's few lookups. The key names the
// result exactly, so an edit in the console is a new key and nothing held
// is ever stale; the registration itself is still read from the store on
// every lookup, so a disabled service provider stops at once on every
// node. What it holds is shared: callers must not modify it.
type appliedMetadata struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*saml.EntityDescriptor
}

// maxAppliedMetadata bounds appliedMetadata; past it, it starts afresh.
const maxAppliedMetadata = 512

func (a *appliedMetadata) get(sp *store.ServiceProvider) (*saml.EntityDescriptor, error) {
	key := appliedKey(sp)
	a.mu.Lock()
	ed := a.m[key]
	a.mu.Unlock()
	if ed != nil {
		return ed, nil
	}
	ed, err := apply(sp)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.m == nil || len(a.m) >= maxAppliedMetadata {
		a.m = make(map[[sha256.Size]byte]*saml.EntityDescriptor)
	}
	a.m[key] = ed
	a.mu.Unlock()
	return ed, nil
}

// appliedKey digests every input of apply, each with its length, so no
// two different registrations share a key.
func appliedKey(sp *store.ServiceProvider) [sha256.Size]byte {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field(sp.MetadataXML)
	field([]byte(sp.EntityID))
	field([]byte{boolByte(sp.RequireSignedRequests), boolByte(sp.EncryptAssertions)})
	for _, u := range sp.ACSURLs {
		field([]byte(u))
	}
	return [sha256.Size]byte(h.Sum(nil))
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// apply parses the stored metadata and keeps what the registration allows.
func apply(sp *store.ServiceProvider) (*saml.EntityDescriptor, error) {
	ed, err := ParseSPMetadata(sp.MetadataXML)
	if err != nil {
		return nil, err
	}
	if ed.EntityID != sp.EntityID {
		return nil, fmt.Errorf("the stored metadata names %s", ed.EntityID)
	}
	yes := true
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		d.AssertionConsumerServices = slices.DeleteFunc(d.AssertionConsumerServices, func(ep saml.IndexedEndpoint) bool {
			return ep.Binding != saml.HTTPPostBinding || !slices.Contains(sp.ACSURLs, ep.Location)
		})
		if sp.RequireSignedRequests {
			d.AuthnRequestsSigned = &yes
		}
		if !sp.EncryptAssertions {
			var kds []saml.KeyDescriptor
			for _, kd := range d.KeyDescriptors {
				switch kd.Use {
				case "encryption":
					continue
				case "":
					kd.Use = "signing"
				}
				kds = append(kds, kd)
			}
			d.KeyDescriptors = kds
		}
	}
	return ed, nil
}
