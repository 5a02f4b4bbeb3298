package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

func TestClientIP(t *testing.T) {
	proxies := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct", "203.0.113.5:1234", "", "203.0.113.5"},
		{"untrusted peer's header ignored", "203.0.113.5:1234", "198.51.100.7", "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:443", "198.51.100.7", "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:443", "198.51.100.7, 192.0.2.1, 10.9.9.9", "198.51.100.7"},
		{"spoofed left-most entry", "10.1.2.3:443", "1.1.1.1, 198.51.100.7", "198.51.100.7"},
		{"garbage header", "10.1.2.3:443", "not-an-ip", "10.1.2.3"},
		{"ipv6", "[2001:db8::1]:443", "", "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := proxies.clientIP(r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocale(t *testing.T) {
	tests := []struct {
		name, cookie, accept string
		ui                   []string
		want                 string
	}{
		{"default Vietnamese", "", "", nil, "vi"},
		{"accept-language English", "", "en-GB,en;q=0.9", nil, "en"},
		{"unsupported language falls back", "", "fr-FR", nil, "vi"},
		{"cookie beats header", "vi", "en", nil, "vi"},
		{"ui_locales beats all", "vi", "vi", []string{"fr", "en-US"}, "en"},
		{"oversized header ignored", "", strings.Repeat("en,", 300), nil, "vi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := Locale(r, tt.ui); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// testPages are the pages the renderer requires, at their smallest.
var testPages = fstest.MapFS{
	"layout.html":     {Data: []byte(`<html lang="{{.Lang}}">{{template "content" .}}</html>`)},
	"error.html":      {Data: []byte(`{{define "content"}}<p role="alert">{{.Data.Message}}</p>{{end}}`)},
	"login.html":      {Data: []byte(`{{define "content"}}login{{end}}`)},
	"logged_out.html": {Data: []byte(`{{define "content"}}bye{{end}}`)},
	"home.html":       {Data: []byte(`{{define "content"}}{{.T.home_title}}{{end}}`)},
}

func testServer(t *testing.T, https bool) http.Handler {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	rd, err := NewRenderer(testPages, log)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Log: log, Renderer: rd, HTTPS: https, Static: fstest.MapFS{"a.css": {Data: []byte("x")}},
		Web: fstest.MapFS{"m.js": {Data: []byte("1")}, "m.test.js": {Data: []byte("2")}}})
}

func TestSecurityHeadersAndRoutes(t *testing.T) {
	h := testServer(t, true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	hdr := rec.Header()
	for name, want := range map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	} {
		if got := hdr.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	csp := hdr.Get("Content-Security-Policy")
	for _, part := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if hdr.Get("X-Request-Id") == "" {
		t.Error("no request ID")
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/static/a.css": 200, "/web/m.js": 200, "/web/m.test.js": 404, "/nope": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: got %d, want %d", path, rec.Code, want)
		}
	}
	rec = httptest.NewRecorder()
	testServer(t, false).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent on plain HTTP")
	}
}

func TestLangSwitcherStaysOnSite(t *testing.T) {
	h := testServer(t, false)
	cases := map[string]string{
		"/login/abc":            "/login/abc",
		"/account/security?x=1": "/account/security?x=1",
		"https://evil.example/": "/",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"/\t/evil.example":      "/",
		"/\r\n/evil.example":    "/",
		"\t//evil.example":      "/",
		"/%09/evil.example":     "/%09/evil.example", // stays a path: the browser does not decode it
		"javascript:alert(1)":   "/",
		"/ /evil.example":       "/",
		"/\u0085/evil.example":  "/",
		"http:/evil.example":    "/",
		"/login/\x00":           "/",
		"":                      "/",
	}
	for back, want := range cases {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/lang", strings.NewReader(url.Values{"lang": {"en"}, "back": {back}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, r)
		if got := rec.Header().Get("Location"); got != want {
			t.Errorf("back=%q: got %q, want %q", back, got, want)
		}
	}
	// The switcher is a form like any other: cross-origin posts are refused.
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/lang", strings.NewReader("lang=en&back=/"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("cross-site POST /lang: got %d (Set-Cookie %q), want 403 and no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

// LocalPath never yields a target a browser would leave the origin for.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a", "//x", "/\\x", "/\t/x", "https://x", "/%2F/x", "/a?b=//c", "\x00", "/\u2028/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, back string) {
		got := LocalPath(back)
		if got != "/" && got != back {
			t.Fatalf("LocalPath(%q) = %q: neither the input nor /", back, got)
		}
		// What a browser does with a Location: drop tab, CR, LF, then
		// resolve against the page.
		cleaned := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, strings.TrimLeft(got, "\x00 \t\r\n\f"))
		cleaned = strings.ReplaceAll(cleaned, "\\", "/")
		base, _ := url.Parse("https://id.example.gov/page")
		u, err := base.Parse(cleaned)
		if err != nil {
			return
		}
		if u.Host != "id.example.gov" || u.Scheme != "https" {
			t.Fatalf("LocalPath(%q) = %q leads to %s", back, got, u)
		}
	})
}

func TestLoggerDropsPersonalData(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "json", "info")
	log.Info("x", "password", "hunter2", "citizen_number", "001099012345", "token", "t0k", "path", "/ok")
	log.With("code", "123456").Info("y")
	out := buf.String()
	for _, secret := range []string{"hunter2", "001099012345", "t0k", "123456"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "/ok") {
		t.Errorf("log lost an ordinary attribute: %s", out)
	}
}
