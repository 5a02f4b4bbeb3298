package certificate

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
)

func TestMapperNumber(t *testing.T) {
	root := certtest.NewRoot(t, "Root")
	tests := []struct {
		name          string
		attr, pattern string
		leaf          certtest.LeafOptions
		want          string
		wantErr       error
	}{
		{"CCCD", "", "", certtest.LeafOptions{SerialNumber: "CCCD:001099012345"}, "001099012345", nil},
		{"CMND with 12 digits", "", "", certtest.LeafOptions{SerialNumber: "CMND:079201000123"}, "079201000123", nil},
		{"CCCD with dash", "", "", certtest.LeafOptions{SerialNumber: "CCCD-001099012345"}, "001099012345", nil},
		{"plain 12 digits", "", "", certtest.LeafOptions{SerialNumber: "001099012345"}, "001099012345", nil},
		{"surrounding spaces", "", "", certtest.LeafOptions{SerialNumber: " CCCD:001099012345 "}, "001099012345", nil},
		{"old 9-digit CMND", "", "", certtest.LeafOptions{SerialNumber: "CMND:012345678"}, "", errNoNumber},
		{"tax code", "", "", certtest.LeafOptions{SerialNumber: "MST:0101234567"}, "", errNoNumber},
		{"13 digits", "", "", certtest.LeafOptions{SerialNumber: "0010990123456"}, "", errNoNumber},
		{"no serialNumber", "", "", certtest.LeafOptions{}, "", errNoNumber},
		{"UID attribute", "UID", "", certtest.LeafOptions{UID: "CCCD:001099012345", SerialNumber: "CCCD:079201000123"}, "001099012345", nil},
		{"UID by OID", "0.9.2342.19200300.100.1.1", "", certtest.LeafOptions{UID: "CMND:001099012345"}, "001099012345", nil},
		{"custom pattern, named group", "", `^PNOVN-(?P<number>\d{12})$`, certtest.LeafOptions{SerialNumber: "PNOVN-001099012345"}, "001099012345", nil},
		{"custom pattern refuses the default form", "", `^PNOVN-(\d{12})$`, certtest.LeafOptions{SerialNumber: "CCCD:001099012345"}, "", errNoNumber},
		{"pattern capturing letters", "", `^(.*)$`, certtest.LeafOptions{SerialNumber: "CCCD:0010990123"}, "", errNoNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMapper(tt.attr, tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Number(root.Issue(t, tt.leaf).Cert)
			if got != tt.want || err != tt.wantErr {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	t.Run("two different numbers", func(t *testing.T) {
		m, _ := NewMapper("", "")
		c := &x509.Certificate{Subject: pkix.Name{Names: []pkix.AttributeTypeAndValue{
			{Type: oidSerialNumber, Value: "CCCD:001099012345"}, {Type: oidSerialNumber, Value: "CCCD:079201000123"}}}}
		if _, err := m.Number(c); err != errAmbiguous {
			t.Errorf("got %v, want errAmbiguous", err)
		}
	})
}

func TestNewMapperRefuses(t *testing.T) {
	for _, tt := range []struct{ attr, pattern, want string }{
		{"CN", "", "serialNumber, UID or a dotted OID"},
		{"1.x.3", "", "dotted OID"},
		{"", "(", "pattern"},
		{"", `^\d{12}$`, "capture group"},
	} {
		if _, err := NewMapper(tt.attr, tt.pattern); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewMapper(%q, %q): got %v, want an error mentioning %q", tt.attr, tt.pattern, err, tt.want)
		}
	}
}

// FuzzMapperNumber: whatever the subject attribute holds, Number never
// panics, returns 12 ASCII digits or an error, and its error never
// contains the attribute's value.
func FuzzMapperNumber(f *testing.F) {
	for _, s := range []string{"CCCD:001099012345", "CMND:012345678", "001099012345", "CCCD:", "", "\x00", "CCCD:00109901234５", strings.Repeat("9", 300)} {
		f.Add(s, "")
	}
	f.Add("PNOVN-001099012345", `^PNOVN-(?P<number>\d{12})$`)
	m0, _ := NewMapper("", "")
	f.Fuzz(func(t *testing.T, value, pattern string) {
		m := m0
		if pattern != "" {
			var err error
			if m, err = NewMapper("serialNumber", pattern); err != nil {
				return
			}
		}
		c := &x509.Certificate{Subject: pkix.Name{Names: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 5}, Value: value}}}}
		n, err := m.Number(c)
		if err != nil {
			if n != "" {
				t.Fatalf("got %q with error %v", n, err)
			}
			if len(value) > 3 && strings.Contains(err.Error(), value) {
				t.Fatalf("error %q contains the attribute value", err)
			}
			return
		}
		if len(n) != 12 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("got number %q, want 12 ASCII digits", n)
		}
		if pattern == "" && !strings.Contains(value, n) {
			t.Fatalf("got number %q not in the value %q", n, value)
		}
	})
}
