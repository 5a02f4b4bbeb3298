package oidc

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"
)

// sameClaims fails unless marshalIDToken and the library's MarshalJSON
// encode c to the same JSON object.
func sameClaims(t *testing.T, c *zoidc.IDTokenClaims) {
	t.Helper()
	ours, err := marshalIDToken(c)
	if err != nil {
		t.Fatalf("marshalIDToken: %v", err)
	}
	theirs, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(ours, &a); err != nil {
		t.Fatalf("ours is not a JSON object: %v: %s", err, ours)
	}
	if err := json.Unmarshal(theirs, &b); err != nil {
		t.Fatalf("library's is not a JSON object: %v: %s", err, theirs)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("claims differ:\n ours    %s\n library %s", ours, theirs)
	}
}

func idTokenClaims() *zoidc.IDTokenClaims {
	now := time.Unix(1_780_000_000, 0)
	c := zoidc.NewIDTokenClaims("https://id.example.gov", "sub-1", []string{"tax-portal", "other"},
		now.Add(5*time.Minute), now.Add(-time.Minute), "n-0S6_WzA2Mj", "urn:citizenid:loa:high", []string{"pwd", "otp"}, "tax-portal", 0)
	c.AccessTokenHash = "77QmUPtjPfzWtF2AnpK9RQ"
	c.CodeHash = "LDktKdoQak3Pk0cnXxCltA"
	return c
}

func TestMarshalIDTokenMatchesTheLibrary(t *testing.T) {
	t.Run("registered claims only", func(t *testing.T) { sameClaims(t, idTokenClaims()) })
	t.Run("with profile, address and others", func(t *testing.T) {
		c := idTokenClaims()
		info := new(zoidc.UserInfo)
		info.Name, info.Birthdate, info.Locale = "Nguyễn Văn An", "1990-04-30", zoidc.NewLocale(language.Vietnamese)
		info.Email, info.EmailVerified = "an@example.vn", true
		info.Address = &zoidc.UserInfoAddress{Locality: "Hà Nội", Country: "VN"}
		info.AppendClaims("sid", "s-1")
		info.AppendClaims(ClaimIdentityLevel, 2)
		info.AppendClaims("cert", map[string]any{"x5t#S256": "abc", "serial": "01"})
		info.AppendClaims("html", "<b>&</b>")
		c.SetUserInfo(info)
		sameClaims(t, c)
	})
	t.Run("another claim replaces a registered one", func(t *testing.T) {
		c := idTokenClaims()
		c.Claims = map[string]any{"acr": "urn:other", "zz": 1}
		sameClaims(t, c)
	})
	t.Run("a registered claim's name inside a value", func(t *testing.T) {
		c := idTokenClaims()
		c.Claims = map[string]any{"note": `"sub":"x"`}
		sameClaims(t, c)
	})
}

func FuzzMarshalIDToken(f *testing.F) {
	f.Add("sid", "s-1", "iss", "x")
	f.Add("", "", "a\u2028b", "\xff")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		c := idTokenClaims()
		c.Claims = map[string]any{k1: v1, k2: []any{v2, 1.5}}
		sameClaims(t, c)
	})
}

// The claims of a refresh grant's ID token, encoded both ways.
func BenchmarkMarshalIDToken(b *testing.B) {
	c := idTokenClaims()
	info := new(zoidc.UserInfo)
	info.Name, info.Birthdate = "Nguyễn Văn An", "1990-04-30"
	info.AppendClaims("sid", "s-1")
	info.AppendClaims(ClaimIdentityLevel, 2)
	c.SetUserInfo(info)
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			if _, err := marshalIDToken(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
