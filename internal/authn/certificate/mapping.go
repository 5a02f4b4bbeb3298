package certificate

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultPattern reads the citizen number out of the subject attribute:
// "CCCD:001099012345", "CMND:001099012345" (also with "-" or no
// separator), or a plain 12-digit number. The first capture group (or the
// group named "number") is the 12-digit citizen number.
const DefaultPattern = `^(?:(?:CCCD|CMND|CC)[:\-]?)?([0-9]{12})$`

// Subject attributes known by name.
var (
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID          = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

// ParseAttribute reads a configured subject attribute: "serialNumber",
// "UID", or a dotted OID.
func ParseAttribute(s string) (asn1.ObjectIdentifier, error) {
	switch strings.ToLower(s) {
	case "serialnumber", "":
		return oidSerialNumber, nil
	case "uid", "userid":
		return oidUID, nil
	}
	var oid asn1.ObjectIdentifier
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("subject attribute %q: serialNumber, UID or a dotted OID", s)
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 9 {
			return nil, fmt.Errorf("subject attribute %q: serialNumber, UID or a dotted OID", s)
		}
		oid = append(oid, n)
	}
	return oid, nil
}

// Mapper finds the citizen number in a certificate's subject.
type Mapper struct {
	attr    asn1.ObjectIdentifier
	pattern *regexp.Regexp
	group   int
}

// NewMapper returns a mapper for the attribute (see ParseAttribute) and
// pattern (empty: DefaultPattern).
func NewMapper(attribute, pattern string) (*Mapper, error) {
	oid, err := ParseAttribute(attribute)
	if err != nil {
		return nil, err
	}
	if pattern == "" {
		pattern = DefaultPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	group := re.SubexpIndex("number")
	if group < 0 {
		if re.NumSubexp() < 1 {
			return nil, errors.New("pattern: needs a capture group for the citizen number")
		}
		group = 1
	}
	return &Mapper{attr: oid, pattern: re, group: group}, nil
}

// Errors of Number.
var (
	errNoNumber  = errors.New("no citizen number in the certificate subject")
	errAmbiguous = errors.New("the certificate subject holds more than one citizen number")
)

// maxAttribute bounds the attribute values looked at.
const maxAttribute = 256

// Number returns the 12-digit citizen number the subject carries. The
// error never contains the attribute's value.
func (m *Mapper) Number(c *x509.Certificate) (string, error) {
	var found []string
	for _, atv := range c.Subject.Names {
		if !atv.Type.Equal(m.attr) {
			continue
		}
		s, ok := atv.Value.(string)
		if !ok || len(s) > maxAttribute {
			continue
		}
		if n, ok := m.match(s); ok && !slices.Contains(found, n) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", errNoNumber
	case 1:
		return found[0], nil
	}
	return "", errAmbiguous
}

func (m *Mapper) match(s string) (string, bool) {
	sub := m.pattern.FindStringSubmatch(strings.TrimSpace(s))
	if sub == nil || m.group >= len(sub) {
		return "", false
	}
	n := sub[m.group]
	if len(n) != 12 {
		return "", false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", false
		}
	}
	return n, true
}
