package app_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// The discovery document tells the truth: a portal's library picks from
// it, so everything listed is served and nothing refused is listed (the
// library's own document advertises the implicit flow, the device flow
// and the JWT-bearer grant, none of which CitizenID serves). What is
// listed is exercised by TestDiscoveryWalk.
func TestDiscoveryListsOnlyWhatIsServed(t *testing.T) {
	e := start(t, false, nil)
	var d map[string]any
	getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
	list := func(k string) []string {
		var out []string
		if v, ok := d[k].([]any); ok {
			for _, x := range v {
				out = append(out, x.(string))
			}
		}
		return out
	}
	want := map[string][]string{
		"response_types_supported": {"code"},
		"grant_types_supported":    {"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":  {"pairwise", "public"},
	}
	for k, w := range want {
		if got := list(k); !slices.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", k, got, w)
		}
	}
	for _, k := range []string{"device_authorization_endpoint", "registration_endpoint", "check_session_iframe"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s is listed: %v", k, d[k])
		}
	}
	if got, w := list("token_endpoint_auth_methods_supported"), []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}; !slices.Equal(got, w) {
		t.Errorf("token_endpoint_auth_methods_supported: got %v, want %v", got, w)
	}
	// What is not listed is refused.
	e.addClient(t, oidcSpec("portal", cbURL))
	for _, rt := range []string{"id_token", "id_token token"} {
		pg := stoppingBrowser(t).get(authorize(e, map[string]string{"response_type": rt, "nonce": "n"}))
		if isLoginForm(pg) || (pg.status == http.StatusOK && pg.header.Get("Location") == "") {
			t.Errorf("response_type %q: got %d and a page, want a refusal (an error page or an error redirect)", rt, pg.status)
		}
	}
}

// Discovery and the JWKS are prepared bytes with an ETag: a client that
// has them gets 304, and a key rotation changes the JWKS's tag. Both say
// how long they are.
func TestDiscoveryAndKeysRevalidate(t *testing.T) {
	e := start(t, false, nil)
	get := func(path, etag string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// Prepared bytes go out with their length, in one piece, not chunked.
		if resp.StatusCode == http.StatusOK && resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %d for a body of %d bytes", path, resp.ContentLength, len(body))
		}
		return resp.StatusCode, resp.Header.Get("ETag"), string(body)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		st, etag, body := get(path, "")
		if st != http.StatusOK || etag == "" || body == "" {
			t.Fatalf("%s: got %d etag %q", path, st, etag)
		}
		if st, _, body := get(path, etag); st != http.StatusNotModified || body != "" {
			t.Errorf("%s with If-None-Match: got %d %q, want 304 and no body", path, st, body)
		}
		if st, _, _ := get(path, `"stale"`); st != http.StatusOK {
			t.Errorf("%s with another tag: got %d, want 200", path, st)
		}
	}
	_, before, _ := get("/keys", "")
	if _, err := e.Keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, after, _ := get("/keys", before)
		if st == http.StatusOK && after != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a rotation: got %d with tag %q, want a new tag", st, after)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
