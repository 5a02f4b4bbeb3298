package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	clientIPKey
)

// RequestID returns the request's ID (set by the middleware).
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// ClientIP returns the client address: RemoteAddr, or the right-most
// untrusted X-Forwarded-For hop when the request came through a trusted proxy.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(clientIPKey).(string)
	return s
}

// WithClientIP returns ctx carrying ip; for callers outside HTTP (tests, CLI).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

// Proxies decides which peers' X-Forwarded-For is believed.
type Proxies []netip.Prefix

// ParseProxies parses addresses and CIDRs (validated by config).
func ParseProxies(list []string) Proxies {
	var out Proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// clientIP walks X-Forwarded-For from the right while hops are trusted proxies.
func (p Proxies) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !p.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr.String()
		}
		addr = h
		if !p.trusted(h) {
			break
		}
	}
	return addr.Unmap().String()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// securityHeaders go on every answer. Names are in canonical form and
// values are built once: they are assigned, not Set, on every request. A
// handler that changes one replaces the slice (Header.Set, Add), never an
// element of it, so sharing them is safe.
var securityHeaders = [...]struct {
	name  string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
}

var hsts = []string{"max-age=63072000; includeSubDomains"}

// Common wraps every request: request ID, client address, security
// headers, a body size limit, metrics (m may be nil) and an access log line
// without query strings (they carry codes and tokens).
func Common(next http.Handler, log *slog.Logger, proxies Proxies, https bool, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, clientIPKey, proxies.clientIP(r))
		r = r.WithContext(ctx)

		h := w.Header()
		h["X-Request-Id"] = []string{id}
		for _, sh := range securityHeaders {
			h[sh.name] = sh.value
		}
		if https {
			h["Strict-Transport-Security"] = hsts
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)

		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		m.ObserveHTTP(max(sw.status, http.StatusOK), time.Since(start))
		log.LogAttrs(ctx, slog.LevelInfo, "http",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

func validRequestID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
