package saml

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// FetchOptions says where FetchMetadata may go.
type FetchOptions struct {
	// AllowedHosts are host names (or addresses) that may be fetched even
	// though they resolve to a loopback, private or link-local address:
	// service providers on an internal network, named by an operator.
	AllowedHosts []string
}

// ErrFetch is what every failed fetch wraps. Its message says nothing of
// what the destination answered: an administrator who can make CitizenID
// fetch a URL must not learn about internal services from the error.
var ErrFetch = errors.New("the metadata could not be fetched from this URL")

// ErrForbiddenDestination: the URL leads (directly, by DNS or by a
// redirect) to a loopback, private, link-local or otherwise internal
// address that AllowedHosts does not name.
var ErrForbiddenDestination = errors.New("the metadata URL leads to an internal address, which is not allowed")

// fetchError keeps the cause for the operator's log apart from what the
// caller shows.
type fetchError struct {
	shown error // ErrFetch or ErrForbiddenDestination, or a size limit
	cause error
}

func (e *fetchError) Error() string   { return e.shown.Error() }
func (e *fetchError) Unwrap() []error { return []error{e.shown, e.cause} }

// FetchCause returns the detailed cause of a FetchMetadata error, for a log.
func FetchCause(err error) error {
	var fe *fetchError
	if errors.As(err, &fe) && fe.cause != nil {
		return fe.cause
	}
	return err
}

// FetchMetadata gets a service provider's metadata from an http(s) URL,
// within 15 seconds and MaxMetadataSize bytes, and checks that it is SP
// metadata. It connects only to public addresses (or hosts o names),
// checked at each connection, so after every redirect and whatever DNS
// answers; it follows at most 3 redirects, to http(s) only.
func FetchMetadata(ctx context.Context, rawURL string, o FetchOptions) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("metadata URL %q: not an http(s) URL", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &fetchError{ErrFetch, err}
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would connect where we cannot check
			DialContext:            o.dial,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
			DisableKeepAlives:      true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
				return fmt.Errorf("redirect to a %s URL", req.URL.Scheme)
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenDestination) {
			return nil, &fetchError{ErrForbiddenDestination, err}
		}
		return nil, &fetchError{ErrFetch, err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &fetchError{ErrFetch, fmt.Errorf("%s answered %s", resp.Request.URL.Host, resp.Status)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataSize+1))
	if err != nil {
		return nil, &fetchError{ErrFetch, err}
	}
	if len(b) > MaxMetadataSize {
		return nil, &fetchError{fmt.Errorf("the metadata is larger than %d bytes", MaxMetadataSize), nil}
	}
	if _, err := ParseSPMetadata(b); err != nil {
		return nil, &fetchError{errors.New("the document at this URL is not SAML service provider metadata"), err}
	}
	return b, nil
}

// dial connects to addr, refusing internal addresses unless the host is
// allowed. The check runs on the address actually connected to (the
// dialer's Control), so a DNS answer that changes between a check and the
// connection cannot get through.
func (o FetchOptions) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !slices.ContainsFunc(o.AllowedHosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if !PublicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenDestination, ap.Addr())
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}

// internalPrefixes are ranges that are not the public internet beyond
// what netip classifies (RFC 6890 and friends).
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // this network
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: an IPv4 address inside
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: an IPv4 address inside
	netip.MustParsePrefix("100::/64"),       // discard
}

// PublicAddr reports whether a is a public unicast address: not loopback,
// private, link-local (169.254.0.0/16: cloud metadata services), shared,
// multicast, unspecified or reserved.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || a.Zone() != "" {
		return false
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
