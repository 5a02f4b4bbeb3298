package saml

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// appliedBase is a registration whose metadata has a key descriptor
// without a use, so that every input of apply changes its result.
func appliedBase(t *testing.T) store.ServiceProvider {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("testdata", "sp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	kd := `<md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	md = []byte(strings.Replace(string(md), `protocol">`, `protocol">`+kd, 1))
	return store.ServiceProvider{
		EntityID:    "https://legacy.example.gov.vn/saml/metadata",
		Name:        "legacy",
		MetadataXML: md,
		ACSURLs:     []string{"https://legacy.example.gov.vn/saml/acs"},
		MinLevel:    1,
	}
}

// TestAppliedMetadataFollowsEveryInput changes each field of a
// registration in turn, after the unchanged one was kept: what comes back
// must be what apply makes of the changed one. A field apply reads that
// the key leaves out would hand back the kept, stale result.
func TestAppliedMetadataFollowsEveryInput(t *testing.T) {
	base := appliedBase(t)
	fields := reflect.TypeFor[store.ServiceProvider]()
	for i := range fields.NumField() {
		f := fields.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			var a appliedMetadata
			kept, err := a.get(&base)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := a.get(&base); again != kept {
				t.Fatal("the same registration was applied again instead of kept")
			}
			sp := base
			v := reflect.ValueOf(&sp).Elem().Field(i)
			switch x := v.Addr().Interface().(type) {
			case *string:
				*x += "-changed"
			case *bool:
				*x = !*x
			case *int:
				*x++
			case *[]string:
				*x = append([]string{"https://legacy.example.gov.vn/saml/acs-other"}, *x...)[:len(*x)]
			case *[]byte:
				*x = []byte(strings.ReplaceAll(string(*x), `saml/acs"`, `saml/acs2"`))
			case *time.Time:
				*x = x.Add(time.Hour)
			default:
				t.Fatalf("field %s of type %s: teach this test to change it", f.Name, f.Type)
			}
			got, gotErr := a.get(&sp)
			want, wantErr := apply(&sp)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("got error %v, want %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestAppliedMetadataIsBounded(t *testing.T) {
	base := appliedBase(t)
	var a appliedMetadata
	for i := range maxAppliedMetadata + 10 {
		sp := base
		sp.ACSURLs = []string{fmt.Sprintf("https://legacy.example.gov.vn/saml/acs/%d", i)}
		if _, err := a.get(&sp); err != nil {
			t.Fatal(err)
		}
		if n := len(a.m); n > maxAppliedMetadata {
			t.Fatalf("got %d kept, want at most %d", n, maxAppliedMetadata)
		}
	}
}

func TestAppliedMetadataKeepsNoError(t *testing.T) {
	sp := appliedBase(t)
	sp.EntityID = "https://other.example.gov.vn/saml/metadata"
	var a appliedMetadata
	if _, err := a.get(&sp); err == nil || !strings.Contains(err.Error(), "names https://legacy.example.gov.vn") {
		t.Fatalf("got %v, want the stored metadata's entity ID named", err)
	}
	if len(a.m) != 0 {
		t.Fatalf("got %d kept after an error, want 0", len(a.m))
	}
}
