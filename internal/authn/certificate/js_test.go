package certificate

import (
	"crypto/elliptic"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/citizenid/citizenid/internal/authn/certificate/certtest"
)

// TestSoftwareSignerInterop signs challenges with web/signing-software.js
// under Node and verifies the tokens here: the browser side and the server
// agree on what is signed and how.
func TestSoftwareSignerInterop(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required under CI (the web/ tests need it too)")
		}
		t.Skip("node not found (under CI=true this fails instead)")
	}
	module, err := filepath.Abs("../../../web/signing-software.js")
	if err != nil {
		t.Fatal(err)
	}
	root := certtest.NewRoot(t, "Root")
	const nonce = "c29mdHdhcmUgc2lnbmVyIG5vbmNlIGZvciB0aGUgdGVzdA"
	script := `
const s = await import(process.env.MODULE);
const key = await s.importKey(process.env.KEY, process.env.ALG);
const signer = s.softwareSigner({ certificate: process.env.CERT, privateKey: key, algorithm: process.env.ALG });
process.stdout.write(JSON.stringify(await signer.authenticate(process.env.NONCE, { origin: process.env.ORIGIN })));
`
	for _, tt := range []struct {
		alg  string
		leaf *certtest.Leaf
	}{
		{"ES256", root.Issue(t, certtest.LeafOptions{})},
		{"ES384", root.Issue(t, certtest.LeafOptions{Key: certtest.ECKey(t, elliptic.P384())})},
		{"RS256", root.Issue(t, certtest.LeafOptions{Key: certtest.RSAKey(t, 2048)})},
		{"PS256", root.Issue(t, certtest.LeafOptions{Key: certtest.RSAKey(t, 2048)})},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			cmd := exec.Command(node, "--input-type=module", "-e", script)
			cmd.Env = append(os.Environ(), "MODULE=file://"+module, "ALG="+tt.alg, "NONCE="+nonce, "ORIGIN="+testOrigin,
				"KEY="+string(certtest.KeyPEM(t, tt.leaf.Key)), "CERT="+string(certtest.PEM(tt.leaf.Cert)))
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node: %v: %s", err, out)
			}
			tok, err := ParseToken(out)
			if err != nil {
				t.Fatalf("ParseToken(%s): %v", out, err)
			}
			if !tok.Certificate.Equal(tt.leaf.Cert) {
				t.Error("got another certificate in the token")
			}
			if err := tok.Verify(testOrigin, nonce); err != nil {
				t.Errorf("Verify: got %v, want nil", err)
			}
			if err := tok.Verify("https://evil.example", nonce); err == nil {
				t.Error("Verify over another origin: got nil, want an error")
			}
		})
	}
}
