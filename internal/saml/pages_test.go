package saml

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/citizenid/citizenid/internal/server"
)

// Every message the SAML pages and errors use exists in both languages.
func TestMessages(t *testing.T) {
	keys := map[string]bool{
		"err_saml_request": true, "err_saml_unknown_sp": true, "err_saml_acs": true, "err_saml_signature": true,
		"err_saml_replay": true, "err_saml_idp_initiated": true, "saml_post_title": true, "saml_logout_progress": true,
		"saml_logout_title": true,
	}
	re := regexp.MustCompile(`\.T\.([a-z_]+)`)
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		for _, m := range re.FindAllSubmatch(b, -1) {
			keys[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	vi, en := server.Messages("vi"), server.Messages("en")
	for k := range keys {
		if vi[k] == "" || en[k] == "" || (vi[k] == en[k] && k != "saml_continue") {
			t.Errorf("message %s: vi %q, en %q; want both", k, vi[k], en[k])
		}
	}
}
