package saml

import (
	"slices"
	"testing"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/store"
)

func TestRequestedLevel(t *testing.T) {
	table, err := assurance.NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{o: Options{ACR: table}}
	loa := func(n string) string { return "urn:citizenid:loa:" + n }
	tests := []struct {
		name       string
		spMin      int
		comparison string
		refs       []string
		wantMin    int
		wantStatus string // second-level status, or top-level when none
		reached    assurance.Level
		reported   assurance.Level
	}{
		{"none: the SP's minimum", 2, "", nil, 2, "", 3, 3},
		{"minimum", 1, "minimum", []string{loa("2")}, 2, "", 3, 3},
		{"minimum, lowest listed", 1, "minimum", []string{loa("3"), loa("2")}, 2, "", 2, 2},
		{"exact reports a listed level", 1, "exact", []string{loa("1")}, 1, "", 2, 1},
		{"exact, highest listed the level covers", 1, "", []string{loa("1"), loa("2"), loa("4")}, 1, "", 3, 2},
		{"exact below the SP's minimum", 2, "exact", []string{loa("1")}, 2, saml.StatusNoAuthnContext, 0, 0},
		{"better", 1, "better", []string{loa("1")}, 2, "", 2, 2},
		{"better than the top", 1, "better", []string{loa("4")}, 5, saml.StatusNoAuthnContext, 0, 0},
		{"maximum", 1, "maximum", []string{loa("2")}, 1, "", 3, 2},
		{"eIDAS alias", 1, "minimum", []string{"http://eidas.europa.eu/LoA/substantial"}, 2, "", 2, 2},
		{"unknown classes only", 1, "minimum", []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}, 1, saml.StatusNoAuthnContext, 0, 0},
		{"unknown ignored beside a known one", 1, "exact", []string{"urn:x", loa("2")}, 2, "", 2, 2},
		{"unknown comparison", 1, "sideways", []string{loa("1")}, 1, saml.StatusRequester, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := &pendingRequest{}
			var rac *saml.RequestedAuthnContext
			if tt.refs != nil {
				rac = &saml.RequestedAuthnContext{Comparison: tt.comparison, AuthnContextClassRefs: tt.refs}
			}
			se := p.requestedLevel(pr, &store.ServiceProvider{MinLevel: tt.spMin}, rac)
			status := ""
			if se != nil {
				status = se.SecondLevel
				if status == "" {
					status = se.TopLevel
				}
			}
			if status != tt.wantStatus {
				t.Fatalf("status: got %q, want %q", status, tt.wantStatus)
			}
			if se != nil {
				return
			}
			if pr.MinLevel != tt.wantMin {
				t.Errorf("minimum level: got %d, want %d", pr.MinLevel, tt.wantMin)
			}
			if got := pr.reportedLevel(tt.reached); got != tt.reported {
				t.Errorf("reported for level %d reached: got %d, want %d", tt.reached, got, tt.reported)
			}
			if got := pr.reportedLevel(tt.reached); got > tt.reached {
				t.Errorf("reported %d, more than the %d reached", got, tt.reached)
			}
		})
	}
}

func TestNameIDPolicy(t *testing.T) {
	sp := &store.ServiceProvider{EntityID: "urn:sp"}
	allowed := &store.ServiceProvider{EntityID: "urn:sp", AllowCitizenNumber: true}
	s := func(v string) *string { return &v }
	tests := []struct {
		name   string
		sp     *store.ServiceProvider
		policy *saml.NameIDPolicy
		want   string
		bad    bool
	}{
		{"none", sp, nil, "", false},
		{"unspecified", sp, &saml.NameIDPolicy{Format: s(nameIDUnspecified)}, "", false},
		{"transient", sp, &saml.NameIDPolicy{Format: s(NameIDTransient)}, NameIDTransient, false},
		{"persistent", sp, &saml.NameIDPolicy{Format: s(NameIDPersistent)}, NameIDPersistent, false},
		{"email", sp, &saml.NameIDPolicy{Format: s("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")}, "", true},
		{"citizen number not allowed", sp, &saml.NameIDPolicy{Format: s(NameIDCitizenNumber)}, "", true},
		{"citizen number allowed", allowed, &saml.NameIDPolicy{Format: s(NameIDCitizenNumber)}, NameIDCitizenNumber, false},
		{"another SPNameQualifier", sp, &saml.NameIDPolicy{SPNameQualifier: s("urn:other")}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, se := nameIDPolicy(tt.sp, tt.policy)
			if (se != nil) != tt.bad || got != tt.want {
				t.Errorf("got %q, %v; want %q, refused %v", got, se, tt.want, tt.bad)
			}
			if se != nil && se.SecondLevel != saml.StatusInvalidNameIDPolicy {
				t.Errorf("status: got %s, want InvalidNameIDPolicy", se.SecondLevel)
			}
		})
	}
}

func TestReleasedAttributes(t *testing.T) {
	c := &store.Citizen{Number: "079201000123", Name: "Trần Thị Bình", IdentityLevel: 2}
	sp := &store.ServiceProvider{Attributes: []string{AttrCitizenNumber, AttrName, AttrBirthdate, AttrIdentityLevel}}
	var names []string
	for _, a := range releasedAttributes(sp, c) {
		names = append(names, a.Name+"="+a.Values[0].Value)
	}
	// No permission: no citizen number; no birthdate on record: none sent.
	if want := []string{"name=Trần Thị Bình", "identity_level=2"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
	sp.AllowCitizenNumber = true
	if got := releasedAttributes(sp, c); len(got) != 3 || got[0].Values[0].Value != c.Number {
		t.Errorf("allowed: got %v, want the citizen number first", got)
	}
}
