package clients

import (
	"fmt"
	"slices"
	"strings"

	"github.com/citizenid/citizenid/internal/store"
)

// A client's tokens: the format of its access tokens and the algorithm
// its ID tokens are signed with.

// Access token formats (Spec.AccessTokenFormat). JWT is the default: a
// portal's API checks an RFC 9068 JWT locally, with the published keys;
// an opaque token needs introspection for every call.
const (
	AccessTokenJWT    = store.AccessTokenJWT
	AccessTokenOpaque = store.AccessTokenOpaque
)

// AccessTokenFormats are the formats a client may choose, the default
// first.
var AccessTokenFormats = []string{AccessTokenJWT, AccessTokenOpaque}

// DefaultAlgorithm is the signing algorithm the server always publishes
// a key for.
const DefaultAlgorithm = "RS256"

// Algorithms are the ID token signing algorithms a client may choose:
// algs, the algorithms the server publishes keys for, or DefaultAlgorithm
// alone when algs is empty.
func Algorithms(algs []string) []string {
	if len(algs) == 0 {
		return []string{DefaultAlgorithm}
	}
	return algs
}

// validateTokens checks the access token format and the ID token
// algorithm of a normalized spec against algs (Algorithms).
func (s Spec) validateTokens(algs []string) Errors {
	var errs Errors
	if s.AccessTokenFormat != "" && !slices.Contains(AccessTokenFormats, s.AccessTokenFormat) {
		errs = append(errs, FieldError{Field: "access_token_format", Key: "admin_err_access_token_format",
			Detail: "access token format: jwt (the default) or opaque"})
	}
	if alg := s.IDTokenSignedResponseAlg; alg != "" && !slices.Contains(Algorithms(algs), alg) {
		errs = append(errs, FieldError{Field: "id_token_signed_response_alg", Key: "admin_err_id_token_alg",
			Detail: fmt.Sprintf("ID token signing algorithm %q: empty (the server's default) or one the server publishes keys for: %s",
				alg, strings.Join(Algorithms(algs), ", "))})
	}
	return errs
}
