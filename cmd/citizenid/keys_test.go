package main

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

var rotatedAlgKID = regexp.MustCompile(`active signing key is now (\S+) \((\S+)\)`)

// TestKeysRotateAlgorithms: with keys.algorithm set, the CLI keeps and
// rotates two lifecycles, RS256 and the configured one, and can rotate one
// alone.
func TestKeysRotateAlgorithms(t *testing.T) {
	c := newCLI(t)
	if err := os.WriteFile(c.config, []byte(cheapConfig+"keys: {algorithm: ES256}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "migrate")
	rotate := func(args ...string) map[string]string {
		t.Helper()
		out := c.ok("", append([]string{"keys", "rotate"}, args...)...)
		got := map[string]string{}
		for _, m := range rotatedAlgKID.FindAllStringSubmatch(out, -1) {
			got[m[2]] = m[1]
		}
		return got
	}
	states := func() map[string]map[string][]string {
		t.Helper()
		s := map[string]map[string][]string{}
		for _, r := range c.list("keys", "list") {
			if s[r["ALG"]] == nil {
				s[r["ALG"]] = map[string][]string{}
			}
			s[r["ALG"]][r["STATE"]] = append(s[r["ALG"]][r["STATE"]], r["KID"])
		}
		return s
	}

	first := rotate()
	if len(first) != 2 || first["RS256"] == "" || first["ES256"] == "" {
		t.Fatalf("keys rotate: got %v, want a new active RS256 and ES256 key", first)
	}
	s := states()
	for alg, kid := range first {
		if !slices.Equal(s[alg]["active"], []string{kid}) || len(s[alg]["next"]) != 1 || len(s[alg]["retired"]) != 1 {
			t.Errorf("%s after rotate: got %v, want %s active, one next, one retired", alg, s[alg], kid)
		}
	}

	only := rotate("--algorithm", "ES256")
	if len(only) != 1 || only["ES256"] != s["ES256"]["next"][0] {
		t.Fatalf("keys rotate --algorithm ES256: got %v, want only ES256 rotated to %s", only, s["ES256"]["next"][0])
	}
	after := states()
	if !slices.Equal(after["RS256"]["active"], s["RS256"]["active"]) || len(after["RS256"]["retired"]) != 1 {
		t.Errorf("RS256 after rotating ES256: got %v, want it untouched", after["RS256"])
	}
	if len(after["ES256"]["retired"]) != 2 {
		t.Errorf("ES256 after its rotation: got %v, want two retired keys", after["ES256"])
	}
	c.fails("", "EdDSA", "keys", "rotate", "--algorithm", "EdDSA")
}
