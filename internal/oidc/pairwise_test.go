package oidc

import "testing"

// Relying parties registered before the protocols were kept apart keep
// the identifiers they know: the legacy scheme is what the previous
// release computed (golden value from it).
func TestPairwiseSubjectLegacyIsStable(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	const want = "VCJhq6sevEh6wNPSaztwvUR_-_6XKjTpT1EIJQiGYf0"
	for _, kind := range []Sector{{"oidc", "client", "tax-portal"}, {"oidc", "sector", "tax-portal"}, {"saml", "sp", "tax-portal"}} {
		if got := PairwiseSubject(secret, SchemeLegacy, kind, "c-0001"); got != want {
			t.Errorf("legacy %v: got %s, want %s", kind, got, want)
		}
	}
}

// In the current scheme no two sectors share identifiers: a client
// cannot claim another's by naming a sector after it, and a SAML entity
// ID named like an OIDC client gets its own.
func TestPairwiseSubjectSeparatesSectors(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	sectors := []Sector{
		{"oidc", "client", "tax-portal"}, {"oidc", "sector", "tax-portal"}, {"saml", "sp", "tax-portal"},
		{"oidc", "client", "tax-portalx"}, {"oidc", "client", "tax"}, {"oidc", "clienttax-", "portal"},
	}
	seen := map[string]Sector{}
	for _, s := range sectors {
		got := PairwiseSubject(secret, SchemeCurrent, s, "c-0001")
		if other, dup := seen[got]; dup {
			t.Errorf("%v and %v share the subject %s", s, other, got)
		}
		seen[got] = s
		if got == PairwiseSubject(secret, SchemeLegacy, s, "c-0001") {
			t.Errorf("%v: the current scheme equals the legacy one", s)
		}
		if got != PairwiseSubject(secret, SchemeCurrent, s, "c-0001") {
			t.Errorf("%v: not stable", s)
		}
	}
}
