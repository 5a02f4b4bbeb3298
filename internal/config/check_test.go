package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckReportsYAMLAndValueProblemsTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	body := "bogus_key: 1\nlog: {level: loud}\nsession: {idle_timeout: notaduration}\nserver: {issuer: ftp://x}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Check(path, func(string) string { return "" })
	if err == nil {
		t.Fatal("got nil, want problems")
	}
	for _, want := range []string{"bogus_key", "line 3", "log.level", "server.issuer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %s", err, want)
		}
	}
	if err := Check("", func(string) string { return "" }); err != nil {
		t.Errorf("defaults: got %v, want nil", err)
	}
}
