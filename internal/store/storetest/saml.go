package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// newSP is a service provider with every field set. The metadata holds
// bytes an XML parser would reject (a zero byte, invalid UTF-8): the store
// keeps the document as given, byte for byte.
func newSP(entityID string) *store.ServiceProvider {
	return &store.ServiceProvider{
		EntityID:              entityID,
		Name:                  "Cổng thông tin cũ",
		MetadataXML:           []byte("<md:EntityDescriptor entityID=\"" + entityID + "\"/>\x00\xff"),
		ACSURLs:               []string{"https://legacy.example.gov.vn/saml/acs", "https://legacy.example.gov.vn/saml/acs2"},
		NameIDFormat:          "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		Attributes:            []string{"name", "birthdate", "identity_level", "citizen_number"},
		AllowCitizenNumber:    true,
		MinLevel:              2,
		EncryptAssertions:     true,
		RequireSignedRequests: true,
		AllowIdPInitiated:     true,
		LegalBasis:            "Nghị định 59/2022/NĐ-CP",
		CreatedAt:             base,
		UpdatedAt:             base,
	}
}

func normSP(sp store.ServiceProvider) store.ServiceProvider {
	sp.MetadataXML = normBytes(sp.MetadataXML)
	sp.ACSURLs = normStrings(sp.ACSURLs)
	sp.Attributes = normStrings(sp.Attributes)
	sp.CreatedAt = normTime(sp.CreatedAt)
	sp.UpdatedAt = normTime(sp.UpdatedAt)
	return sp
}

func testServiceProviders(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	full := newSP("https://legacy-b.example.gov.vn/saml/metadata")
	bare := &store.ServiceProvider{EntityID: "https://legacy-a.example.gov.vn/sp", MetadataXML: []byte("<x/>"), MinLevel: 1}
	third := newSP("urn:example:legacy-c")
	third.Disabled = true
	third.SubjectScheme = 1 // registered before the current scheme: kept as it is
	for _, sp := range []*store.ServiceProvider{full, bare, third} {
		must(t, "create service provider "+sp.EntityID, s.CreateServiceProvider(ctx, sp))
	}

	t.Run("get", func(t *testing.T) {
		for _, sp := range []*store.ServiceProvider{full, bare, third} {
			got, err := s.ServiceProviderByEntityID(ctx, sp.EntityID)
			must(t, "service provider by entity id", err)
			check(t, "service provider "+sp.EntityID, normSP(*got), normSP(*sp))
			if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
				t.Errorf("times: got locations %v %v, want UTC", got.CreatedAt.Location(), got.UpdatedAt.Location())
			}
		}
		if bare.CreatedAt.IsZero() || !bare.UpdatedAt.Equal(bare.CreatedAt) {
			t.Errorf("stamped times: got created %v updated %v, want the store's clock twice", bare.CreatedAt, bare.UpdatedAt)
		}
	})

	t.Run("list ordered by entity id", func(t *testing.T) {
		got, err := s.ListServiceProviders(ctx)
		must(t, "list service providers", err)
		var ids []string
		for _, sp := range got {
			ids = append(ids, sp.EntityID)
		}
		check(t, "entity ids", ids, []string{bare.EntityID, full.EntityID, third.EntityID})
		if len(got) == 3 {
			check(t, "listed service provider", normSP(got[1]), normSP(*full))
		}
	})

	t.Run("errors", func(t *testing.T) {
		noop := func(*store.ServiceProvider) error { return nil }
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"duplicate entity id", s.CreateServiceProvider(ctx, newSP(full.EntityID)), store.ErrConflict},
			{"unknown entity id", func() error { _, err := s.ServiceProviderByEntityID(ctx, "urn:no-such-sp"); return err }(), store.ErrNotFound},
			{"update unknown", s.UpdateServiceProvider(ctx, "urn:no-such-sp", noop), store.ErrNotFound},
			{"delete unknown", s.DeleteServiceProvider(ctx, "urn:no-such-sp"), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.err, tt.want) })
		}
		if err := s.CreateServiceProvider(ctx, &store.ServiceProvider{}); err == nil {
			t.Error("create without entity id: got nil error, want an error")
		}
	})

	t.Run("update", func(t *testing.T) {
		must(t, "update service provider", s.UpdateServiceProvider(ctx, full.EntityID, func(sp *store.ServiceProvider) error {
			check(t, "service provider passed to fn", normSP(*sp), normSP(*full))
			sp.Name = "Renamed"
			sp.MetadataXML = []byte("<new/>")
			sp.ACSURLs = sp.ACSURLs[:1]
			sp.Attributes = nil
			sp.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
			sp.AllowCitizenNumber = false
			sp.MinLevel = 3
			sp.EncryptAssertions = false
			sp.RequireSignedRequests = false
			sp.AllowIdPInitiated = false
			sp.Disabled = true
			return nil
		}))
		got, err := s.ServiceProviderByEntityID(ctx, full.EntityID)
		must(t, "service provider by entity id", err)
		want := *full
		want.Name, want.MetadataXML, want.ACSURLs, want.Attributes = "Renamed", []byte("<new/>"), full.ACSURLs[:1], nil
		want.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
		want.AllowCitizenNumber, want.MinLevel, want.EncryptAssertions = false, 3, false
		want.RequireSignedRequests, want.AllowIdPInitiated, want.Disabled = false, false, true
		want.UpdatedAt = got.UpdatedAt
		check(t, "updated service provider", normSP(*got), normSP(want))
		if got.UpdatedAt.Equal(normTime(full.UpdatedAt)) {
			t.Errorf("UpdatedAt: got %v unchanged, want the store's clock", got.UpdatedAt)
		}
	})

	t.Run("update fn error writes nothing", func(t *testing.T) {
		before, err := s.ServiceProviderByEntityID(ctx, third.EntityID)
		must(t, "service provider by entity id", err)
		boom := errors.New("boom")
		wantErr(t, "update with failing fn", s.UpdateServiceProvider(ctx, third.EntityID, func(sp *store.ServiceProvider) error {
			sp.Name = "half-written"
			return boom
		}), boom)
		if err := s.UpdateServiceProvider(ctx, third.EntityID, func(sp *store.ServiceProvider) error {
			sp.EntityID = "urn:example:other"
			return nil
		}); err == nil {
			t.Error("update changing the entity id: got nil error, want an error")
		}
		after, err := s.ServiceProviderByEntityID(ctx, third.EntityID)
		must(t, "service provider by entity id", err)
		check(t, "service provider after failed updates", normSP(*after), normSP(*before))
	})

	t.Run("delete", func(t *testing.T) {
		must(t, "delete service provider", s.DeleteServiceProvider(ctx, bare.EntityID))
		_, err := s.ServiceProviderByEntityID(ctx, bare.EntityID)
		wantErr(t, "deleted service provider", err, store.ErrNotFound)
		wantErr(t, "delete again", s.DeleteServiceProvider(ctx, bare.EntityID), store.ErrNotFound)
		got, err := s.ListServiceProviders(ctx)
		must(t, "list service providers", err)
		if len(got) != 2 {
			t.Errorf("service providers after delete: got %d, want 2", len(got))
		}
	})

	t.Run("concurrent updates", func(t *testing.T) { testServiceProvidersConcurrent(t, newStore) })
}

// testServiceProvidersConcurrent: concurrent updates of one service
// provider are serialised, so none is lost.
func testServiceProvidersConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := t.Context()
	sp := newSP("urn:example:concurrent")
	sp.Attributes = nil
	must(t, "create service provider", s.CreateServiceProvider(ctx, sp))
	const n = 8
	errs := make([]error, n)
	atOnce(n, func(i int) {
		errs[i] = s.UpdateServiceProvider(ctx, sp.EntityID, func(sp *store.ServiceProvider) error {
			sp.Attributes = append(sp.Attributes, fmt.Sprintf("attr-%d", i))
			return nil
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: got error %v, want nil", i, err)
		}
	}
	got, err := s.ServiceProviderByEntityID(ctx, sp.EntityID)
	must(t, "service provider by entity id", err)
	slices.Sort(got.Attributes)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("attr-%d", i))
	}
	check(t, "attributes after concurrent updates", got.Attributes, want)
}
