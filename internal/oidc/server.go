package oidc

import (
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// opServer bends zitadel/oidc by its extension point (op.ExtendedLegacyServer):
// the library's LegacyServer answers what it does right, and the methods
// below take over what CitizenID must do itself — client authentication
// (private_key_jwt, DPoP), token responses (RFC 9068 access tokens, DPoP
// binding), userinfo and introspection, authorization requests (PAR, JAR,
// RFC 9207 iss) and a discovery document that lists only what works.
type opServer struct {
	*op.LegacyServer
	p *Provider
}

var _ op.ExtendedLegacyServer = (*opServer)(nil)

// endpoints are the library's endpoints; the device authorization
// endpoint is left out (nil: not registered, and not served).
func endpoints() op.Endpoints {
	return op.Endpoints{
		Authorization: op.NewEndpoint(pathAuthorize),
		Token:         op.NewEndpoint(pathToken),
		Introspection: op.NewEndpoint(pathIntrospect),
		Userinfo:      op.NewEndpoint(pathUserinfo),
		Revocation:    op.NewEndpoint(pathRevoke),
		EndSession:    op.NewEndpoint(pathEndSession),
		JwksURI:       op.NewEndpoint(pathKeys),
	}
}

// handler is the library's HTTP handler over s. The library's
// /authorize/callback is not used: a login answers the portal directly
// (Provider.Complete), so the route answers 404.
func (s *opServer) handler() http.Handler {
	return op.RegisterLegacyServer(s, http.NotFound)
}
