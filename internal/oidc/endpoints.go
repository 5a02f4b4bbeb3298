package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// noStore marks responses that carry tokens or claims as not cacheable
// (RFC 6749 §5.1, OIDC Core §5.3.2).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(retryAfter{w}, r)
	})
}

// retryAfter adds Retry-After to a server error: the client may try again
// soon (a dependency of the server failed, never the client).
type retryAfter struct{ http.ResponseWriter }

func (w retryAfter) WriteHeader(code int) {
	if code >= 500 {
		w.Header().Set("Retry-After", "5")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w retryAfter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isUnavailable reports whether err is a failure of the server (made by
// unavailable), not of the client's request.
func isUnavailable(err error) bool {
	var oe *zoidc.Error
	return errors.As(err, &oe) && oe.ErrorType == zoidc.ServerError
}

// serverUnavailable answers a protocol request the server cannot serve
// now: 503, Retry-After, and a standard error without the cause.
func serverUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(`{"error":"server_error","error_description":"the service is briefly unavailable; try again later"}` + "\n"))
}

// unavailable hides a failure of the server's own stores from clients: a
// standard server_error without its cause (kept as the parent, for the
// log), never an answer that blames the client's request.
func unavailable(err error) error {
	var oe *zoidc.Error
	if err == nil || errors.As(err, &oe) {
		return err
	}
	return zoidc.ErrServerError().WithParent(err).WithDescription("the service is briefly unavailable; try again later")
}

// maxTokenRequest bounds the body of a token, introspection or revocation
// request.
const maxTokenRequest = 64 << 10

// clientAuthMethod holds a confidential client to the authentication
// method it registered: a client_secret_basic client is refused when it
// sends its secret in the body, and the other way round; a request that
// uses two methods at once is refused (RFC 6749 §2.3).
func (p *Provider) clientAuthMethod(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
		if err := r.ParseForm(); err != nil {
			op.RequestError(w, r, zoidc.ErrInvalidRequest().WithDescription("the request body cannot be parsed"), p.o.Log)
			return
		}
		basicID, _, basic := r.BasicAuth()
		_, inBody := r.PostForm["client_secret"]
		var used zoidc.AuthMethod
		id := r.PostForm.Get("client_id")
		switch {
		case basic && inBody:
			op.RequestError(w, r, zoidc.ErrInvalidRequest().WithDescription("use one client authentication method, not two"), p.o.Log)
			return
		case basic:
			used = zoidc.AuthMethodBasic
			if id == "" {
				id = basicID
			}
		case inBody:
			used = zoidc.AuthMethodPost
		}
		if used != "" && id != "" {
			if c, err := p.st.client(r.Context(), unescapeBasic(id, basic)); err == nil && !c.c.Public && c.AuthMethod() != used {
				w.Header().Set("WWW-Authenticate", `Basic realm="citizenid"`)
				op.RequestError(w, r, zoidc.ErrInvalidClient().WithDescription("the client is registered for %s", c.AuthMethod()), p.o.Log)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unescapeBasic undoes the form-encoding RFC 6749 §2.3.1 applies to the
// client id in HTTP Basic authentication.
func unescapeBasic(id string, basic bool) string {
	if !basic || !strings.ContainsAny(id, "%+") {
		return id
	}
	if u, err := url.QueryUnescape(id); err == nil {
		return u
	}
	return id
}
