package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/clientkeys"
)

// Request objects (RFC 9101, JAR): the authorization request's
// parameters in a JWT signed by a key of the client. Only the object's
// parameters count; those outside it are ignored (§6.3), but client_id
// must agree. alg=none and encrypted objects are refused, and a
// request_uri is accepted only from our own PAR endpoint: nothing is
// ever fetched from a URL a request names.

const maxRequestObject = 16 << 10

// jwtClaimsOnly are JWT claims of a request object that are not
// authorization request parameters.
var jwtClaimsOnly = []string{"iss", "aud", "exp", "iat", "nbf", "jti", "sub"}

// requestObject verifies raw as a request object of client c and
// returns its parameters.
func (p *Provider) requestObject(ctx context.Context, c *client, raw string) (url.Values, error) {
	keys, err := p.o.ClientKeys.Keys(ctx, c.c, "")
	if err != nil {
		return nil, errRequestObject().WithDescription("the client has no keys to verify a request object")
	}
	return parseRequestObject(raw, keys, c.c.ID, p.o.Issuer, p.now())
}

// parseRequestObject verifies raw with one of keys (the key its kid
// names, when it names one) and returns its parameters: iss, when
// present, and client_id must be clientID; aud, when present, must name
// issuer; exp and nbf must hold at now.
func parseRequestObject(raw string, keys []jose.JSONWebKey, clientID, issuer string, now time.Time) (url.Values, error) {
	bad := func(format string, a ...any) error {
		return errRequestObject().WithDescription(format, a...)
	}
	if len(raw) > maxRequestObject {
		return nil, bad("the request object is too long")
	}
	if strings.Count(raw, ".") == 4 {
		return nil, bad("encrypted request objects are not supported; sign it with %s", clientkeys.AlgorithmNames())
	}
	tok, err := jwt.ParseSigned(raw, clientkeys.Algorithms)
	if err != nil {
		return nil, bad("the request object must be a JWT signed with %s (alg none is refused)", clientkeys.AlgorithmNames())
	}
	if len(tok.Headers) != 1 {
		return nil, bad("the request object must have one signature")
	}
	h := tok.Headers[0]
	var doc map[string]any
	var std jwt.Claims
	verified := false
	for _, k := range keys {
		if (h.KeyID != "" && k.KeyID != h.KeyID) || !clientkeys.Fits(k, jose.SignatureAlgorithm(h.Algorithm)) {
			continue
		}
		if err := tok.Claims(k.Key, &doc, &std); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, bad("the request object's signature does not verify with the client's keys")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: now}, jwtLeeway); err != nil {
		return nil, bad("the request object is not valid now: %s", err)
	}
	if std.Issuer != "" && std.Issuer != clientID {
		return nil, bad("the request object's iss must be the client id")
	}
	if len(std.Audience) > 0 && !std.Audience.Contains(issuer) {
		return nil, bad("the request object's aud must be %s", issuer)
	}
	if id, _ := doc["client_id"].(string); id != clientID {
		return nil, bad("the request object's client_id must be the request's client_id")
	}
	return requestParams(doc)
}

// requestParams turns a request object's claims into request parameters:
// strings as they are, numbers in decimal, objects (claims) as JSON.
func requestParams(doc map[string]any) (url.Values, error) {
	out := url.Values{}
	for k, v := range doc {
		if slices.Contains(jwtClaimsOnly, k) {
			continue
		}
		if k == "request" || k == "request_uri" {
			return nil, errRequestObject().WithDescription("a request object may not contain %s", k)
		}
		switch v := v.(type) {
		case string:
			out.Set(k, v)
		case float64:
			out.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			out.Set(k, strconv.FormatBool(v))
		case map[string]any:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			out.Set(k, string(b))
		case nil:
		default:
			return nil, errRequestObject().WithDescription("parameter %s of the request object has an unsupported type", k)
		}
	}
	return out, nil
}

// errNotFromPAR: a request_uri that is not one of ours.
var errNotFromPAR = errors.New("request_uri not from the pushed authorization request endpoint")

// parURN is the prefix of our request URIs (RFC 9126 §2.2).
const parURN = "urn:ietf:params:oauth:request_uri:"

func parID(requestURI string) (string, error) {
	id, ok := strings.CutPrefix(requestURI, parURN)
	if !ok || id == "" || len(id) > 64 {
		return "", fmt.Errorf("%w: %.64q", errNotFromPAR, requestURI)
	}
	return id, nil
}

// errRequestObject is invalid_request_object (RFC 9101 §6.3).
func errRequestObject() *zoidc.Error { return &zoidc.Error{ErrorType: "invalid_request_object"} }
