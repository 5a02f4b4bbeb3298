package saml

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1::1": true, "8.8.8.8": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"100.64.0.1": false, "224.0.0.1": false, "255.255.255.255": false, "::ffff:127.0.0.1": false,
		"::ffff:169.254.169.254": false, "64:ff9b::a9fe:a9fe": false, "2002:7f00:1::": false, "198.18.0.1": false,
	} {
		if got := PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s): got %v, want %v", addr, got, want)
		}
	}
}

// Metadata URLs cannot reach internal addresses: not directly, not by a
// name that resolves to one, not after a redirect; and the error says
// nothing of what answered.
func TestFetchMetadataRefusesInternalDestinations(t *testing.T) {
	const secret = "INTERNAL-SERVICE-SECRET"
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example/saml">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`))
	})
	mux.HandleFunc("/internal", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<secret>" + secret + "</secret>")) })
	mux.HandleFunc("/to-metadata-service", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	mux.HandleFunc("/to-loopback", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/internal", http.StatusFound)
	})
	ctx := context.Background()

	refused := []struct {
		name, url string
		allowed   []string
	}{
		{"loopback address", srv.URL + "/metadata", nil},
		{"a name of loopback", "http://localhost" + port + "/metadata", nil},
		{"cloud metadata service", "http://169.254.169.254/latest/meta-data/", nil},
		{"private address", "http://10.0.0.1/metadata", nil},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]" + port + "/metadata", nil},
		{"allowed host redirecting to loopback", "http://localhost" + port + "/to-loopback", []string{"localhost"}},
		{"allowed host redirecting to the metadata service", "http://localhost" + port + "/to-metadata-service", []string{"localhost"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FetchMetadata(ctx, tt.url, FetchOptions{AllowedHosts: tt.allowed})
			if !errors.Is(err, ErrForbiddenDestination) {
				t.Fatalf("got %v, want ErrForbiddenDestination", err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("the error shows details: %q", err)
			}
		})
	}

	// A host the operator named is fetched; what it says is never echoed.
	if _, err := FetchMetadata(ctx, "http://localhost"+port+"/metadata", FetchOptions{AllowedHosts: []string{"LOCALHOST"}}); err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	_, err := FetchMetadata(ctx, "http://localhost"+port+"/internal", FetchOptions{AllowedHosts: []string{"localhost"}})
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "secret") {
		t.Errorf("not metadata: got %v, want a generic error", err)
	}
	if cause := FetchCause(err); cause == nil || cause == err {
		t.Errorf("the cause for the log is lost: %v", cause)
	}
}
