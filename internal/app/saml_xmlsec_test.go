package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	citizensaml "github.com/citizenid/citizenid/internal/saml"
)

// xmlsec1 checks the signatures with Debian's xmlsec1, an implementation
// that shares no code with crewjam or goxmldsig. It verifies the signature
// that node (an XPath) selects, with the IdP's certificate as the only key.
func xmlsec1(t *testing.T, dir string, doc []byte, certPEM, node string) error {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is required under CI=true (scripts/install-deps.sh installs it)")
		}
		t.Skip("xmlsec1 is not installed (scripts/install-deps.sh installs it; under CI=true this fails instead)")
	}
	f := filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--verify", "--pubkey-cert-pem", certPEM, "--enabled-key-data", "rsa",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"}
	if node != "" {
		args = append(args, "--node-xpath", node)
	}
	out, err := exec.Command(bin, append(args, f)...).CombinedOutput()
	if err != nil {
		return &xmlsecError{err: err, out: string(out)}
	}
	if !strings.Contains(string(out), "OK") {
		return &xmlsecError{out: string(out)}
	}
	return nil
}

type xmlsecError struct {
	err error
	out string
}

func (e *xmlsecError) Error() string { return "xmlsec1: " + e.out }

func TestSAMLSignaturesVerifyWithXmlsec1(t *testing.T) {
	e := start(t, false, nil)
	e.addCitizen(t, testNumber, testPassword)
	p := newSAMLPortal(t, e, "Cổng", nil, func(s *citizensaml.SPSpec) {
		s.Attributes = []string{"name", "identity_level"}
	})
	p.hello(newBrowser(t), e.URL, testNumber, testPassword)
	raw := p.lastResponse()

	dir := t.TempDir()
	md := idpMetadata(t, e)
	cert, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(
		md.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data), ""))
	if err != nil {
		t.Fatal(err)
	}
	certPEM := filepath.Join(dir, "idp.pem")
	if err := os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		response  = "/*[local-name()='Response']/*[local-name()='Signature']"
		assertion = "//*[local-name()='Assertion']/*[local-name()='Signature']"
	)
	for _, node := range []string{response, assertion} {
		if err := xmlsec1(t, dir, raw, certPEM, node); err != nil {
			t.Errorf("signature %s: %v", node, err)
		}
	}

	// Another key does not verify them: xmlsec1 really checks against
	// the IdP's certificate.
	_, other := spKeyPair(t)
	otherPEM := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(otherPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := xmlsec1(t, dir, raw, otherPEM, response); err == nil {
		t.Error("the response verified with another certificate")
	}

	// One attribute value changed: neither signature holds.
	tampered := bytes.Replace(raw, []byte("Trần Thị Bình"), []byte("Trần Thị Bính"), 1)
	if bytes.Equal(tampered, raw) {
		t.Fatal("the response does not carry the name")
	}
	for _, node := range []string{response, assertion} {
		if err := xmlsec1(t, dir, tampered, certPEM, node); err == nil {
			t.Errorf("signature %s: a changed attribute verified", node)
		}
	}
}
