package release

import (
	"slices"
	"testing"
)

func TestForScopes(t *testing.T) {
	tests := []struct {
		name    string
		scopes  []string
		allowed func(string) bool
		want    []Attribute
	}{
		{"openid only", []string{"openid", "offline_access"}, nil, nil},
		{"profile", []string{"openid", "profile"}, nil, []Attribute{Name, Birthdate, IdentityLevel}},
		{"order and duplicates", []string{"email", "citizen_number", "profile", "email"}, nil,
			[]Attribute{Name, Birthdate, CitizenNumber, IdentityLevel, Email}},
		{"not allowed", []string{"profile", "citizen_number"}, func(s string) bool { return s != "citizen_number" },
			[]Attribute{Name, Birthdate, IdentityLevel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ForScopes(tt.scopes, tt.allowed); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCoversAndParse(t *testing.T) {
	have := Parse([]string{"birthdate", "name", "bogus"})
	if !slices.Equal(have, []Attribute{Name, Birthdate}) {
		t.Fatalf("Parse: got %v, want [name birthdate]", have)
	}
	if !Covers(have, []Attribute{Name}) || Covers(have, []Attribute{Name, Email}) || !Covers(have, nil) {
		t.Errorf("Covers: wrong answer for %v", have)
	}
	for _, a := range order {
		if a.Label() == "" || !a.Known() {
			t.Errorf("%s: no label or not known", a)
		}
	}
}
