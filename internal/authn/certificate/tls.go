package certificate

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// TLSOptions configure the client-certificate listener: its own host name
// (URL), so that the browser's certificate prompt appears only when the
// citizen chose this way, never on the main site.
type TLSOptions struct {
	// URL is the listener's public base URL (https://cert.id.example.gov);
	// empty means no listener.
	URL string
	// Listen is the address to listen on.
	Listen string
	// CertFile and KeyFile are the listener's own TLS certificate. Both
	// empty: the listener speaks plain HTTP behind a TLS-terminating proxy
	// in TrustedProxies, which passes the client certificate in Header.
	CertFile, KeyFile string
	// TrustedProxies are the addresses (IPs or CIDRs) whose Header is
	// believed; from anyone else it is ignored.
	TrustedProxies []string
	// Header carries the client certificate from a trusted proxy: PEM,
	// URL-escaped (nginx $ssl_client_escaped_cert) or not.
	Header string
}

// TLSServer is the client-certificate listener, ready to serve.
type TLSServer struct {
	Addr    string
	Handler http.Handler
	// TLSConfig asks for a client certificate without verifying it (our
	// own verification follows) and names no acceptable CAs: a long CA
	// list breaks some handshakes, and browsers then offer every
	// certificate. Nil when the listener is plain HTTP behind a proxy.
	TLSConfig *tls.Config
}

// Listen opens the listener's socket, wrapped in TLS when configured.
func (s *TLSServer) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	if s.TLSConfig == nil {
		return ln, nil
	}
	return tls.NewListener(ln, s.TLSConfig), nil
}

// TLSServer returns the client-certificate listener, or nil when none is
// configured.
func (a *Authenticator) TLSServer() (*TLSServer, error) {
	o := a.o.TLS
	if o.URL == "" {
		return nil, nil
	}
	s := &TLSServer{Addr: o.Listen}
	if o.CertFile != "" || o.KeyFile != "" {
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("certificate listener: %w", err)
		}
		s.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{pair},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		}
	}
	proxies := server.ParseProxies(o.TrustedProxies)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tls/{ticket}", func(w http.ResponseWriter, r *http.Request) { a.serveTLS(w, r, proxies) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "err_not_found")
	})
	s.Handler = server.Common(mux, a.o.Log, proxies, true, nil)
	return s, nil
}

// TLSPage is the view model of certificate_tls.html.
type TLSPage struct {
	Message string
	Back    string
}

// serveTLS receives the client certificate for a login transaction and
// sends the browser back to the login page with a single-use handle.
func (a *Authenticator) serveTLS(w http.ResponseWriter, r *http.Request, proxies server.Proxies) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	var t ticket
	if err := kindTicket.Take(ctx, a.o.Sessions, r.PathValue("ticket"), &t); err != nil {
		a.o.Renderer.Gone(w, r, http.StatusNotFound, lang, "take certificate ticket", err)
		return
	}
	back := strings.TrimSuffix(a.o.Issuer, "/") + "/login/" + url.PathEscape(t.Txn)
	chain := a.clientChain(r, proxies)
	if len(chain) == 0 {
		a.o.Renderer.Render(w, r, http.StatusUnauthorized, "certificate_tls", lang, "method_certificate_title",
			TLSPage{Message: a.o.Renderer.T(lang, msgNoCert), Back: back})
		return
	}
	h := session.RandomToken(24)
	if err := kindPresented.Put(ctx, a.o.Sessions, h, presented{Txn: t.Txn, Chain: chain}, a.o.ChallengeTTL); err != nil {
		a.o.Log.ErrorContext(ctx, "store presented certificate", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	http.Redirect(w, r, back+"?certificate="+h, http.StatusSeeOther)
}

// maxChain bounds the certificates taken from a client.
const maxChain = 8

// clientChain is the certificate chain the client presented in the TLS
// handshake (which proved possession of the key), or, from a trusted
// proxy only, the one in the configured header. Anything else is ignored.
func (a *Authenticator) clientChain(r *http.Request, proxies server.Proxies) [][]byte {
	var out [][]byte
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		for i, c := range r.TLS.PeerCertificates {
			if i == maxChain {
				break
			}
			out = append(out, c.Raw)
		}
		return out
	}
	if a.o.TLS.Header == "" || !fromProxy(r, proxies) {
		return nil
	}
	certs, err := parseHeaderCertificates(r.Header.Get(a.o.TLS.Header))
	if err != nil {
		a.o.Log.WarnContext(r.Context(), "client certificate header from the proxy is unusable", "err", err)
		return nil
	}
	for _, c := range certs {
		out = append(out, c.Raw)
	}
	return out
}

func fromProxy(r *http.Request, proxies server.Proxies) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range proxies {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// parseHeaderCertificates reads PEM certificates from a proxy header,
// URL-escaped or with the line breaks replaced by spaces or tabs.
func parseHeaderCertificates(v string) ([]*x509.Certificate, error) {
	if v == "" {
		return nil, errors.New("empty")
	}
	if len(v) > MaxTokenBytes {
		return nil, errors.New("too large")
	}
	if strings.Contains(v, "%") {
		u, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		v = u
	}
	// Some proxies fold the PEM onto one line.
	v = strings.NewReplacer("\t", "\n", "-----BEGIN CERTIFICATE----- ", "-----BEGIN CERTIFICATE-----\n",
		" -----END CERTIFICATE-----", "\n-----END CERTIFICATE-----").Replace(v)
	var out []*x509.Certificate
	rest := []byte(v)
	for len(out) < maxChain {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}
